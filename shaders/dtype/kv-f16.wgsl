// KV cache element preamble: an f16 cache, half the bytes of f32 (the cache is most of a long context's memory
// and all of attention's reads). Keys and values are rounded to f16 as they are stored and widened to f32 as
// they are read: scores, softmax and the weighted sums of values stay f32. Needs `shader-f16`; shaderSource puts
// `enable f16;` first in the module (directives precede every declaration).
alias KvScalar = f16;

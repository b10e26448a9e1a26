// Stop strings that may span tokens: text is released only once it cannot be the start of a stop string,
// so the output never shows part of one ("Hello\n\nUser:" with stop "\nUser:" streams "Hello\n" only if the
// next token is not the rest of it).

export class StopStringMatcher {
  /** Text received but not released: a suffix that is a proper prefix of some stop string. */
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds text; returns what may be shown now and whether a stop string has been completed (generation ends). */
  push(text: string): { text: string; stopped: boolean } {
    const buffer = this.held + text;
    if (this.stops.length === 0) return { text: buffer, stopped: false };
    // The earliest stop string: earlier text was released only because no stop string could start there.
    let at = -1;
    for (const stop of this.stops) {
      const i = buffer.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      this.held = '';
      return { text: buffer.slice(0, at), stopped: true };
    }
    let keep = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, buffer.length); n > keep; n--) {
        if (buffer.endsWith(stop.slice(0, n))) { keep = n; break; }
      }
    }
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** At the end of generation: whatever was held back was not a stop string after all. */
  flush(): string {
    const text = this.held;
    this.held = '';
    return text;
  }
}

// Which JavaScript runtime loading runs in: Node reads paths and a cache directory, browsers use URLs and OPFS.
export function isNodeRuntime(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined' && typeof self === 'undefined';
}

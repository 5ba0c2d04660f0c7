/** True for an http(s) URL (a model source to download) rather than a local path. */
export function isHttpUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

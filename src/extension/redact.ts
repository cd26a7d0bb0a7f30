// What an endpoint value may show in a log line: a URL's userinfo and query often carry credentials
// (`https://user:token@host/?api_key=...`), so they never reach the log.

/** The value with userinfo, query and fragment removed; works on values that are not valid URLs too. */
export function redactEndpoint(value: string): string {
  let v = value.replace(/[?#].*$/s, '');
  // Userinfo sits between the scheme (or start) and the first `@` before the path.
  v = v.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i,
    (_, scheme: string | undefined) => `${scheme ?? ''}***@`,
  );
  // Keep log lines single-line and short whatever was configured.
  return v.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/**
 * A PostgreSQL URL fit for messages and logs: the password (if any) replaced by ***. Works on strings
 * that do not parse as URLs too (the regex fallback), so a typo in db.url never leaks the secret.
 */
export function redactPgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/**
 * Quotes a string as a SQL literal for LanceDB filters written by seamline itself (ids from bronze).
 * User requests never reach a filter string: search filters are structured and validated.
 */
export function sqlString(s: string): string {
  if (s.includes('\u0000')) throw new Error('NUL character in a SQL string literal');
  return `'${s.replace(/'/g, "''")}'`;
}

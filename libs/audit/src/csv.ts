/** CSV (RFC 4180) cells that spreadsheets will not run as formulas. */

/** Cells starting with one of these are formulas to Excel, LibreOffice and Google Sheets. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell: null is an empty cell; any other value is quoted (quotes doubled), and a value that a
 * spreadsheet would read as a formula gets a leading single quote (OWASP "CSV injection").
 */
export function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** One record, CRLF-terminated. */
export function csvLine(values: (string | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** A small streaming VOTable 1.4 writer for results that pyvo and TOPCAT read (DALI-20). */

export interface VotableField {
  readonly name: string;
  readonly datatype: 'char' | 'int' | 'long' | 'double' | 'boolean';
  readonly unit?: string;
  readonly ucd?: string;
  readonly arraysize?: string;
  readonly description?: string;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
  );
}

function attrs(field: VotableField): string {
  let out = ` name="${escapeXml(field.name)}" datatype="${field.datatype}"`;
  if (field.arraysize) out += ` arraysize="${field.arraysize}"`;
  if (field.unit) out += ` unit="${escapeXml(field.unit)}"`;
  if (field.ucd) out += ` ucd="${escapeXml(field.ucd)}"`;
  return out;
}

/** The document up to the first row: QUERY_STATUS comes before the TABLE, as DALI requires. */
export function votableHead(
  tableName: string,
  fields: readonly VotableField[],
  infos: Record<string, string> = {},
): string {
  const infoLines = Object.entries(infos)
    .map(([k, v]) => `  <INFO name="${escapeXml(k)}" value="${escapeXml(v)}"/>\n`)
    .join('');
  const fieldLines = fields
    .map((f) =>
      f.description
        ? `   <FIELD${attrs(f)}><DESCRIPTION>${escapeXml(f.description)}</DESCRIPTION></FIELD>\n`
        : `   <FIELD${attrs(f)}/>\n`,
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n' +
    ' <RESOURCE type="results">\n' +
    '  <INFO name="QUERY_STATUS" value="OK"/>\n' +
    infoLines +
    `  <TABLE name="${escapeXml(tableName)}">\n` +
    fieldLines +
    '   <DATA><TABLEDATA>\n'
  );
}

export function votableRow(values: readonly (string | number | boolean | null)[]): string {
  let out = '    <TR>';
  for (const v of values) out += v === null ? '<TD/>' : `<TD>${escapeXml(String(v))}</TD>`;
  return `${out}</TR>\n`;
}

export const VOTABLE_TAIL = '   </TABLEDATA></DATA>\n  </TABLE>\n </RESOURCE>\n</VOTABLE>\n';

export const VOTABLE_MEDIA_TYPE = 'application/x-votable+xml';

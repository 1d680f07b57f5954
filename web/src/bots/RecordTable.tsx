// A bot page's list of records (fills, orders) as a responsive table: a scrolling table on wide screens, one
// card a row on a phone, where each cell shows its column's name from its data-label. The first column is the
// row's header cell; with no rows, a line saying so stands in its place.
import type { ReactNode } from "react";

export interface RecordColumn<Row> {
  /** Header text, also the cell's data-label in the phone layout. */
  label: string;
  cell: (row: Row) => ReactNode;
  /** Class of both the header and the cells (e.g. "num"). */
  className?: string;
}

/** The row's data-* attributes (data-testid, data-kind, ...). */
export type RowData = Record<`data-${string}`, string>;

export interface RecordTableProps<Row> {
  rows: readonly Row[];
  /** The first column is the row header: a <th scope="row"> without data-label. */
  columns: readonly [RecordColumn<Row>, ...RecordColumn<Row>[]];
  rowKey: (row: Row, index: number) => string;
  rowData: (row: Row) => RowData;
  caption: string;
  testId: string;
  empty: { text: string; testId: string };
}

export function RecordTable<Row>({ rows, columns, rowKey, rowData, caption, testId, empty }: RecordTableProps<Row>) {
  if (rows.length === 0) {
    return (
      <p className="empty" data-testid={empty.testId}>
        {empty.text}
      </p>
    );
  }
  const [head, ...rest] = columns;
  return (
    <div className="table-scroll">
      <table className="table responsive-table" data-testid={testId}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column, i) => (
              <th key={i} scope="col" className={column.className}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={rowKey(row, i)} {...rowData(row)}>
              <th scope="row" className={head.className}>
                {head.cell(row)}
              </th>
              {rest.map((column, j) => (
                <td key={j} className={column.className} data-label={column.label}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

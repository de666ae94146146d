/** Bodies every route that takes `ids` (mark-read, mark-unread, delete) refuses with 400. */
export const BAD_IDS: Array<[string, unknown]> = [
  ['1,001 ids', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }],
  ['a zero id', { ids: [0] }],
  ['a negative id', { ids: [-1] }],
  ['a fractional id', { ids: [1.5] }],
  ['a string id', { ids: ['1'] }],
  ['a null id', { ids: [null] }],
  ['a boolean id', { ids: [true] }],
  ['a nested array', { ids: [[1]] }],
  ['an id past 2^53', { ids: [2 ** 60] }],
  ['ids as a string', { ids: '1,2' }],
  ['ids as a number', { ids: 1 }],
  ['ids as an object', { ids: { 0: 1 } }],
  ['ids null', { ids: null }],
  ['no ids', {}],
  ['an unknown field', { ids: [1], all: true }],
  ['a JSON array body', [1, 2]],
];

// The live editor's document shape. Node and mark names are what the server reads and writes
// (shared_workspace/documents/live_content.py): change them together, or not at all.
import { Schema } from "prosemirror-model";
import { tableNodes } from "prosemirror-tables";

const block = (tag) => ({
  content: "inline*",
  group: "block",
  parseDOM: [{ tag }],
  toDOM: () => [tag, 0],
});
// Tables as the report markup has them: rows of header or data cells (colspan / rowspan kept),
// each cell holding blocks; a row remembers whether it belongs to the table's <thead>.
const tables = tableNodes({ tableGroup: "block", cellContent: "block+", cellAttributes: {} });
tables.table_row = {
  ...tables.table_row,
  attrs: { head: { default: false } },
  parseDOM: [{ tag: "tr", getAttrs: (dom) => ({ head: dom.parentNode?.nodeName === "THEAD" }) }],
  toDOM: () => ["tr", 0],
};

const simpleMark = (tag, also = []) => ({
  parseDOM: [{ tag }, ...also.map((t) => ({ tag: t }))],
  toDOM: () => [tag, 0],
});

export const schema = new Schema({
  nodes: {
    doc: { content: "block+" },
    paragraph: block("p"),
    heading: {
      attrs: { level: { default: 2 } },
      content: "inline*",
      group: "block",
      defining: true,
      parseDOM: [2, 3, 4].map((level) => ({ tag: `h${level}`, attrs: { level } })),
      toDOM: (node) => [`h${Math.min(Math.max(Number(node.attrs.level) || 2, 2), 4)}`, 0],
    },
    blockquote: {
      content: "block+",
      group: "block",
      defining: true,
      parseDOM: [{ tag: "blockquote" }],
      toDOM: () => ["blockquote", 0],
    },
    bullet_list: {
      content: "list_item+",
      group: "block",
      parseDOM: [{ tag: "ul" }],
      toDOM: () => ["ul", { class: "govuk-list govuk-list--bullet" }, 0],
    },
    ordered_list: {
      content: "list_item+",
      group: "block",
      parseDOM: [{ tag: "ol" }],
      toDOM: () => ["ol", { class: "govuk-list govuk-list--number" }, 0],
    },
    list_item: {
      content: "paragraph block*",
      defining: true,
      parseDOM: [{ tag: "li" }],
      toDOM: () => ["li", 0],
    },
    table: tables.table,
    table_row: tables.table_row,
    table_cell: tables.table_cell,
    table_header: tables.table_header,
    text: { group: "inline" },
    hard_break: {
      inline: true,
      group: "inline",
      selectable: false,
      parseDOM: [{ tag: "br" }],
      toDOM: () => ["br"],
    },
  },
  // In this order: the outer mark first when marks nest (the server writes them so too).
  marks: {
    footnote: {
      parseDOM: [{ tag: "span.footnote" }],
      toDOM: () => ["span", { class: "footnote" }, 0],
    },
    link: {
      attrs: { href: {} },
      inclusive: false,
      parseDOM: [{ tag: "a[href]", getAttrs: (dom) => ({ href: dom.getAttribute("href") }) }],
      toDOM: (mark) => ["a", { href: mark.attrs.href, rel: "noopener noreferrer", class: "govuk-link" }, 0],
    },
    strong: simpleMark("strong", ["b"]),
    em: simpleMark("em", ["i"]),
    sub: simpleMark("sub"),
    sup: simpleMark("sup"),
  },
});

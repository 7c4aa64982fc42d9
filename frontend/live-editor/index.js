// Live co-editing of one document section: a ProseMirror editor bound to a Yjs document that
// the server keeps in step with everyone else's (y-websocket protocol). Progressive
// enhancement of the section page: without JavaScript, or until the person chooses to write
// live, the page's form saves a version as before.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from "y-prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import { EditorView } from "prosemirror-view";
import { keymap } from "prosemirror-keymap";
import { baseKeymap, toggleMark, setBlockType, wrapIn, chainCommands, exitCode } from "prosemirror-commands";
import { wrapInList, splitListItem, liftListItem, sinkListItem } from "prosemirror-schema-list";
import {
  tableEditing,
  goToNextCell,
  addRowAfter,
  addColumnAfter,
  deleteRow,
  deleteColumn,
  isInTable,
} from "prosemirror-tables";
import { schema } from "./schema.js";
import css from "./live-editor.css";

const PREFERENCE = "cjji-live-editing";
const sheet = new CSSStyleSheet();
sheet.replaceSync(css);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
const tenantRules = new Set();

function colourFor(user) {
  const colour = /^#[0-9a-fA-F]{6}$/.test(user?.colour ?? "") ? user.colour : "#1d70b8";
  const tenant = Number(user?.tenant) || 0;
  if (!tenantRules.has(tenant)) {
    tenantRules.add(tenant);
    sheet.insertRule(`.app-live-selection--t${tenant} { background-color: ${colour}33; }`);
  }
  return { colour, tenant };
}

// "Name (Inspectorate)", unless the name says it already.
function who(user) {
  const name = user?.name ?? "Someone";
  const suffix = `(${user?.inspectorate ?? ""})`;
  return name.endsWith(suffix) ? name : `${name} ${suffix}`;
}

function cursorBuilder(user) {
  const { colour } = colourFor(user);
  const cursor = document.createElement("span");
  cursor.className = "app-live-cursor";
  cursor.style.setProperty("--live-colour", colour);
  const label = document.createElement("span");
  label.className = "app-live-cursor__label";
  label.textContent = who(user);
  cursor.append(document.createTextNode("\u2060"), label, document.createTextNode("\u2060"));
  return cursor;
}

function selectionBuilder(user) {
  const { tenant } = colourFor(user);
  return { class: `app-live-selection app-live-selection--t${tenant}` };
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function toolbar(view, canEdit) {
  const bar = el("div", { class: "app-live-editor__toolbar", role: "toolbar", "aria-label": "Formatting" });
  const run = (command) => () => {
    command(view.state, view.dispatch, view);
    view.focus();
  };
  const link = (state, dispatch) => {
    if (state.selection.empty) return false;
    const href = window.prompt("Link address (https://, http:// or mailto:)");
    if (href === null) return false;
    if (!/^(https?:\/\/|mailto:)/i.test(href.trim())) return toggleMark(schema.marks.link)(state, dispatch);
    return toggleMark(schema.marks.link, { href: href.trim() })(state, dispatch);
  };
  // A new table: a header row and one data row of two columns, the cursor in its first cell.
  const table = (state, dispatch) => {
    if (isInTable(state)) return false;
    const { table_row: row, table_cell: cell, table_header: header, paragraph } = schema.nodes;
    const cells = (type) => [type.create(null, paragraph.create()), type.create(null, paragraph.create())];
    const node = schema.nodes.table.create(null, [
      row.create({ head: true }, cells(header)),
      row.create(null, cells(cell)),
    ]);
    if (dispatch) {
      const tr = state.tr.replaceSelectionWith(node);
      let start = null;
      tr.doc.descendants((child, pos) => {
        if (child === node) start = pos;
        return start === null;
      });
      // table > row > cell > paragraph: the first cell's text starts four positions in.
      if (start !== null) tr.setSelection(TextSelection.near(tr.doc.resolve(start + 4)));
      dispatch(tr.scrollIntoView());
    }
    return true;
  };
  const buttons = [
    ["Bold", toggleMark(schema.marks.strong)],
    ["Italic", toggleMark(schema.marks.em)],
    ["Heading", setBlockType(schema.nodes.heading, { level: 2 })],
    ["Subheading", setBlockType(schema.nodes.heading, { level: 3 })],
    ["Paragraph", setBlockType(schema.nodes.paragraph)],
    ["Bulleted list", wrapInList(schema.nodes.bullet_list)],
    ["Numbered list", wrapInList(schema.nodes.ordered_list)],
    ["Quote", wrapIn(schema.nodes.blockquote)],
    ["Link", link],
    ["Footnote", toggleMark(schema.marks.footnote)],
    ["Table", table],
    ["Add row", addRowAfter],
    ["Add column", addColumnAfter],
    ["Delete row", deleteRow],
    ["Delete column", deleteColumn],
    ["Undo", (state) => undo(state)],
    ["Redo", (state) => redo(state)],
  ];
  for (const [label, command] of buttons) {
    const button = el("button", { type: "button", class: "govuk-button govuk-button--secondary" }, label);
    button.disabled = !canEdit;
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", run(command));
    bar.append(button);
  }
  return bar;
}

function presenceList(list, awareness) {
  const render = () => {
    list.replaceChildren();
    const people = [];
    awareness.getStates().forEach((state, clientId) => {
      if (clientId !== awareness.clientID && state.user) people.push(state.user);
    });
    if (!people.length) {
      list.append(el("li", {}, "Nobody else is writing here live."));
      return;
    }
    for (const user of people) {
      const { colour } = colourFor(user);
      const swatch = el("span", { class: "app-live-swatch", "aria-hidden": "true" });
      swatch.style.setProperty("--live-colour", colour);
      const item = el("li", { "data-inspectorate": user.inspectorate ?? "" });
      item.append(swatch, document.createTextNode(who(user)));
      list.append(item);
    }
  };
  awareness.on("change", render);
  render();
}

function start(box) {
  const canEdit = box.dataset.canEdit === "true";
  const base = new URL(box.dataset.liveBase, window.location.href);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(base.href, "live", ydoc, {
    disableBc: true,
    maxBackoffTime: 5000,
  });
  const fragment = ydoc.getXmlFragment("prosemirror");
  let closed = false;
  let offlineEdits = false;

  const people = el("ul", { class: "app-live-editor__people", "aria-label": "Writing here live" });
  const surface = el("div", { class: "app-live-editor__surface" });
  const status = el("p", { class: "govuk-body-s app-live-editor__status", role: "status" }, "Connecting…");
  const view = new EditorView(surface, {
    state: EditorState.create({
      schema,
      plugins: [
        ySyncPlugin(fragment),
        tableEditing(),
        yCursorPlugin(provider.awareness, { cursorBuilder, selectionBuilder }),
        yUndoPlugin(),
        keymap({
          "Mod-z": undo,
          "Mod-y": redo,
          "Mod-Shift-z": redo,
          "Mod-b": toggleMark(schema.marks.strong),
          "Mod-i": toggleMark(schema.marks.em),
          "Shift-Enter": chainCommands(exitCode, (state, dispatch) => {
            if (dispatch) dispatch(state.tr.replaceSelectionWith(schema.nodes.hard_break.create()).scrollIntoView());
            return true;
          }),
          Enter: splitListItem(schema.nodes.list_item),
          // In a table, Tab moves between cells; elsewhere it nests a list item.
          Tab: chainCommands(goToNextCell(1), sinkListItem(schema.nodes.list_item)),
          "Shift-Tab": chainCommands(goToNextCell(-1), liftListItem(schema.nodes.list_item)),
        }),
        keymap(baseKeymap),
      ],
    }),
    editable: () => canEdit && !closed,
    attributes: {
      role: "textbox",
      "aria-multiline": "true",
      "aria-label": `Text of ${box.dataset.sectionTitle ?? "the section"}`,
      "aria-readonly": String(!canEdit),
      "data-testid": "live-editor",
    },
  });

  box.replaceChildren(
    people,
    canEdit ? toolbar(view, canEdit) : el("span"),
    surface,
    status,
  );
  box.hidden = false;
  presenceList(people, provider.awareness);

  ydoc.on("update", (_update, origin) => {
    if (origin !== provider && !provider.wsconnected) offlineEdits = true;
  });
  provider.on("status", ({ status: state }) => {
    if (closed) return;
    if (state === "connected") {
      status.textContent = canEdit
        ? "Connected. Changes are saved as you type and become a new version of the document every 30 seconds and when the last person leaves."
        : "Connected. Another inspectorate drafts this section: you see their changes as they type.";
    } else {
      status.textContent = offlineEdits || state === "disconnected"
        ? "Offline. Keep writing: your changes stay in this page and are merged when the connection returns."
        : "Connecting…";
    }
  });
  provider.on("sync", (synced) => {
    if (synced && provider.wsconnected) offlineEdits = false;
  });
  provider.on("closed", ({ reason }) => {
    closed = true;
    view.setProps({});
    status.textContent = `${reason || "The live connection was closed."} Reload the page to carry on.`;
    status.classList.add("govuk-error-message");
  });
  window.addEventListener("beforeunload", (event) => {
    if (offlineEdits && !provider.wsconnected) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.liveEditor = { ydoc, provider, view };
  return view;
}

function offer(box) {
  const form = document.getElementById("section-form");
  const readOnly = document.getElementById("section-read-only");
  const button = el(
    "button",
    { type: "button", class: "govuk-button govuk-button--secondary", "data-module": "govuk-button" },
    box.dataset.canEdit === "true" ? "Write together live" : "Follow live edits",
  );
  const go = () => {
    window.localStorage?.setItem(PREFERENCE, "on");
    button.remove();
    if (form) form.hidden = true;
    if (readOnly) readOnly.hidden = true;
    start(box).focus();
  };
  button.addEventListener("click", go);
  box.before(button);
  if (window.localStorage?.getItem(PREFERENCE) === "on") go();
}

const box = document.getElementById("live-editor");
if (box?.dataset.liveBase) offer(box);

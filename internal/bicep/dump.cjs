// Parses Bicep files with tree-sitter-bicep and prints their syntax trees as
// one JSON document on stdout. Run by parse.go (go:embed) with the clients/
// folder as the working directory, where tree-sitter and tree-sitter-bicep
// are installed; stdin is a JSON array of {path, source}.
//
// Output: [{path, root, errors}], where a node is
//   {t: type, f: field name in parent, x: source text, l: 1-based line,
//    c: named children (comments left out), k: anonymous tokens}
// and errors lists the ERROR and MISSING nodes as {line, text, missing}.
//
// The grammar predates the `extension` statement, so a line holding only
// `extension <name>` is blanked (same length, so lines and offsets stay put)
// before parsing.
'use strict';

const fs = require('fs');
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');

const parser = new Parser();
parser.setLanguage(Bicep);

const extensionLine = /^[ \t]*extension[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*(\/\/.*)?$/gm;

function convert(cursor, errors) {
  const node = {
    t: cursor.nodeType,
    x: cursor.nodeText,
    l: cursor.startPosition.row + 1,
  };
  const field = cursor.currentFieldName;
  if (field) node.f = field;
  if (cursor.nodeType === 'ERROR' || cursor.nodeIsMissing) {
    errors.push({ line: node.l, text: node.x.slice(0, 80), missing: cursor.nodeIsMissing, type: cursor.nodeType });
  }
  if (cursor.gotoFirstChild()) {
    const children = [];
    const tokens = [];
    do {
      if (cursor.nodeIsNamed || cursor.nodeType === 'ERROR') {
        if (cursor.nodeType === 'comment' || cursor.nodeType === 'diagnostic_comment') continue;
        children.push(convert(cursor, errors));
      } else {
        if (cursor.nodeIsMissing) {
          errors.push({ line: cursor.startPosition.row + 1, text: cursor.nodeType, missing: true, type: cursor.nodeType });
        }
        tokens.push(cursor.nodeType);
      }
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
    if (children.length) node.c = children;
    if (tokens.length) node.k = tokens;
  }
  return node;
}

function main() {
  const inputs = JSON.parse(fs.readFileSync(0, 'utf8'));
  const out = [];
  for (const { path, source: text } of inputs) {
    const source = text.replace(extensionLine, (m) => ' '.repeat(m.length));
    // The default buffer (32 KiB) is too small for larger files.
    const tree = parser.parse(source, undefined, { bufferSize: Math.max(32 * 1024, 2 * source.length + 1024) });
    const errors = [];
    const root = convert(tree.walk(), errors);
    out.push({ path, root, errors });
  }
  process.stdout.write(JSON.stringify(out));
}

main();

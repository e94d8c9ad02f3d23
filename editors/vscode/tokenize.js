// Tokenizes .score files with the TextMate grammar the way VS Code does (vscode-textmate and
// vscode-oniguruma) and prints, for each file, its lines' tokens as JSON:
// {"file": [[{"text", "scopes"}, ...], ...]}. Used by the tests and the screenshot script.
"use strict";

const fs = require("fs");
const path = require("path");
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = path.join(__dirname, "syntaxes", "score.tmLanguage.json");

async function grammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () =>
      textmate.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR),
  });
  return registry.loadGrammar("source.score");
}

async function main(files) {
  const score = await grammar();
  const found = {};
  for (const file of files) {
    let stack = textmate.INITIAL;
    found[file] = fs.readFileSync(file, "utf8").split("\n").map((line) => {
      const result = score.tokenizeLine(line, stack);
      stack = result.ruleStack;
      return result.tokens.map((token) => ({
        text: line.slice(token.startIndex, token.endIndex),
        scopes: token.scopes,
      }));
    });
  }
  process.stdout.write(JSON.stringify(found));
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(String(error.stack || error) + "\n");
  process.exit(1);
});

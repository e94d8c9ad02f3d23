// The scorelang extension: starts `score lsp` (the language server that ships with the
// scorelang Python package) for `.score` files. Everything the editor shows comes from the
// server: diagnostics, formatting, completion, hover, definitions, quick fixes, outline and
// the "run test" lenses; this file only starts it and passes the settings on.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("scorelang");
  return {
    events: config.get("events") || null,
    contacts: config.get("contacts") || null,
    docsUrl: config.get("docsUrl") || null,
  };
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration("scorelang");
  const [command, ...args] = config.get("server.command") || ["score", "lsp"];
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "score" },
      { scheme: "untitled", language: "score" },
    ],
    initializationOptions: { scorelang: settings() },
    synchronize: {
      configurationSection: "scorelang",
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{scorelang.toml,*.score}"),
    },
  };
  client = new LanguageClient("scorelang", "scorelang", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("scorelang.restartServer", () => client.restart()));
  try {
    await client.start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `scorelang: cannot start \`${[command, ...args].join(" ")}\` (${error.message}). ` +
        "Install scorelang with pip, or set scorelang.server.command to its `score` command.");
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Starts `sourcing lsp` for rule files. The program is the setting `sourcing.server.path`
// (a name on the PATH by default); the server restarts when the setting changes.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('sourcing');
  const command = config.get('server.path') || 'sourcing';
  const extra = config.get('server.extraArgs') || [];
  return { command, args: ['lsp', ...extra], transport: TransportKind.stdio };
}

async function start(context) {
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'sourcing-rules' },
      { scheme: 'untitled', language: 'sourcing-rules' },
    ],
  };
  client = new LanguageClient('sourcing', 'Sourcing rules', serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `Cannot start \`${serverOptions().command} lsp\`: ${err.message}. ` +
        'Set "sourcing.server.path" to the sourcing program.'
    );
  }
}

async function activate(context) {
  await start(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('sourcing.server')) {
        if (client) {
          await client.stop().catch(() => {});
        }
        await start(context);
      }
    })
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Another extension, as a user's would be: it gets a tokenwarden session only
// through vscode.authentication (VS Code asks the user to allow it the first
// time), and writes the token where the end-to-end test can check it at the
// dev server's /userinfo. Test-only; never shipped in the tokenwarden .vsix.
const fs = require('node:fs');
const vscode = require('vscode');

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('twE2eConsumer.fetchToken', async (args) => {
      let access = 'silent';
      let session = await vscode.authentication.getSession('tokenwarden', [], { createIfNone: false });
      if (session === undefined) {
        access = 'after consent';
        session = await vscode.authentication.getSession('tokenwarden', [], { createIfNone: true });
      }
      fs.writeFileSync(args.outFile, session.accessToken, { mode: 0o600 });
      void vscode.window.showInformationMessage(`e2e consumer: got a token for ${session.account.label} (${access})`);
    }),
  );
};

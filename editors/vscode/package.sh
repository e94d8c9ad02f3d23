#!/usr/bin/env bash
# Builds editors/vscode/scorelang.vsix with @vscode/vsce (npm): the grammar is regenerated
# from the language's keyword lists first, so the package never ships a stale one.
set -euo pipefail
cd "$(dirname "$0")"
python3 make_grammar.py
if [ ! -d node_modules/@vscode/vsce ]; then
    npm ci --no-audit --no-fund
fi
npx vsce package --no-yarn --allow-missing-repository --out scorelang.vsix
echo "install with: code --install-extension $(pwd)/scorelang.vsix"

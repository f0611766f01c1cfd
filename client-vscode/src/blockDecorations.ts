// The extent of each generated block as a thin gutter bar (logic/blockExtent.ts says why).
import * as vscode from "vscode";
import { blockExtents, LineRange } from "./logic/blockExtent";
import { blockSpans } from "./logic/blocks";

function bar(color: string): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    borderWidth: "0 0 0 2px",
    borderStyle: "solid",
    borderColor: new vscode.ThemeColor(color),
    overviewRulerColor: new vscode.ThemeColor(color),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
}

export class BlockDecorations implements vscode.Disposable {
  private readonly needsWork = bar("editorWarning.foreground");
  private readonly settled = bar("editorLineNumber.foreground");
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors(() => {
        this.renderAll();
      }),
      vscode.languages.onDidChangeDiagnostics(() => {
        this.renderAll();
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        for (const editor of vscode.window.visibleTextEditors) {
          if (editor.document === event.document) {
            this.render(editor);
          }
        }
      }),
    ];
    this.renderAll();
  }

  private renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      this.render(editor);
    }
  }

  private render(editor: vscode.TextEditor): void {
    const text = editor.document.getText();
    if (!text.includes("handrail:begin")) {
      editor.setDecorations(this.needsWork, []);
      editor.setDecorations(this.settled, []);
      return;
    }
    const flagged = new Set(
      vscode.languages
        .getDiagnostics(editor.document.uri)
        .filter((d) => d.source === "handrail")
        .map((d) => d.range.start.line),
    );
    const extents = blockExtents(blockSpans(text), flagged);
    const ranges = (lines: LineRange[]): vscode.Range[] =>
      lines.map((r) => new vscode.Range(r.startLine, 0, r.endLine, 0));
    editor.setDecorations(this.needsWork, ranges(extents.needsWork));
    editor.setDecorations(this.settled, ranges(extents.settled));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.needsWork.dispose();
    this.settled.dispose();
  }
}

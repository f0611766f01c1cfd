// The status bar item: active task, its tokens against the budget, unverified blocks.
import * as vscode from "vscode";
import { CheckContextResult, CheckResult, FindingJson } from "./logic/protocol";
import { StatusState, statusText, statusTooltip } from "./logic/statusText";
import { ServerController } from "./server";
import { ActiveTask } from "./tasks";

export const SHOW_UNVERIFIED = "handrail.showUnverifiedBlocks";
const UNVERIFIED_CODES = new Set(["HR300", "HR310"]);

export class HandrailStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private unverified: FindingJson[] = [];
  private state: StatusState = {
    task: undefined,
    totalTokens: undefined,
    maxTokens: undefined,
    unverified: undefined,
  };
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private checkGeneration = 0;
  private checkPending = true;

  constructor(
    private readonly server: ServerController,
    private readonly active: ActiveTask,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = "Handrail";
    this.item.command = SHOW_UNVERIFIED;
    this.render();
    this.item.show();
  }

  /**
   * Refreshes soon; a burst of saves and editor switches makes one round of requests. The
   * workspace check reads every file, so it runs only when `withCheck` asked for it since the
   * last refresh (start, save), not when the cursor moves into another task's block.
   */
  schedule(delayMs = 300, withCheck = true): void {
    this.checkPending ||= withCheck;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      void this.refresh();
    }, delayMs);
  }

  /** Called when the cursor moves: refreshes only if that changed the active task. */
  cursorMoved(): void {
    if (this.active.current() !== this.state.task) {
      this.schedule(300, false);
    }
  }

  /**
   * The task part and the check part are applied separately: a quick refresh for a cursor
   * move must not throw away the result of a slower workspace check that started before it.
   */
  async refresh(): Promise<void> {
    const withCheck = this.checkPending;
    this.checkPending = false;
    await Promise.all([this.refreshTask(), withCheck ? this.refreshCheck() : Promise.resolve()]);
  }

  private async refreshTask(): Promise<void> {
    const generation = ++this.generation;
    const task = this.active.current();
    if (task !== this.state.task) {
      this.state = { ...this.state, task, totalTokens: undefined, maxTokens: undefined };
      this.render();
    }
    if (task === undefined) {
      return;
    }
    try {
      const context = await this.server.execute<CheckContextResult>("handrail.checkContext", {
        task,
      });
      if (generation === this.generation) {
        this.state = {
          ...this.state,
          totalTokens: context.total_tokens,
          maxTokens: context.max_tokens,
        };
        this.render();
      }
    } catch (error) {
      // A task that was deleted or is unreadable leaves the tokens blank, nothing more.
      this.log.debug(`Status bar: no context for ${task}: ${String(error)}`);
    }
  }

  private async refreshCheck(): Promise<void> {
    const generation = ++this.checkGeneration;
    try {
      const check = await this.server.execute<CheckResult>("handrail.check");
      if (generation === this.checkGeneration) {
        // HR310: a passing run that never executed the block leaves it just as unverified.
        this.unverified = check.findings.filter((finding) => UNVERIFIED_CODES.has(finding.code));
        this.state = { ...this.state, unverified: this.unverified.length };
        this.render();
      }
    } catch (error) {
      this.log.debug(`Status bar: check failed: ${String(error)}`);
    }
  }

  async showUnverified(): Promise<void> {
    this.checkPending = true;
    await this.refresh();
    interface Item extends vscode.QuickPickItem {
      finding: FindingJson;
    }
    const items: Item[] = this.unverified.map((finding) => ({
      label: `$(warning) ${finding.path}:${finding.line ?? 1}`,
      detail: finding.message,
      finding,
    }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage("Handrail: every generated block is verified.");
      return;
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: "Unverified generated blocks",
      matchOnDetail: true,
    });
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (picked === undefined || folder === undefined) {
      return;
    }
    const uri = vscode.Uri.joinPath(folder.uri, picked.finding.path);
    const line = Math.max(0, (picked.finding.line ?? 1) - 1);
    const position = new vscode.Position(line, 0);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position) });
  }

  private render(): void {
    this.item.text = statusText(this.state);
    this.item.tooltip = statusTooltip(this.state);
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.item.dispose();
  }
}

// The status bar item: active task, its tokens against the budget, each block's state.
import * as vscode from "vscode";
import {
  BlockStatesJson,
  blockItems,
  blocksListTitle,
  blocksSummaryMessage,
} from "./logic/blockStates";
import { CheckContextResult, CheckResult } from "./logic/protocol";
import { StatusState, statusText, statusTooltip } from "./logic/statusText";
import { ServerController } from "./server";
import { ActiveTask } from "./tasks";

export const SHOW_UNVERIFIED = "handrail.showUnverifiedBlocks";

export class HandrailStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  /** undefined until a check answered (or when the last one failed): never an all-clear. */
  private blocks: BlockStatesJson | undefined;
  private state: StatusState = {
    task: undefined,
    totalTokens: undefined,
    maxTokens: undefined,
    blocks: undefined,
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
        // The gate's own findings grouped by block: a failing block is counted as failing.
        this.blocks = check.blocks;
        this.state = { ...this.state, blocks: check.blocks };
        this.render();
      }
    } catch (error) {
      if (generation === this.checkGeneration) {
        this.blocks = undefined;
        this.state = { ...this.state, blocks: undefined };
        this.render();
      }
      this.log.warn(`Status bar: the workspace check failed: ${String(error)}`);
    }
  }

  async showUnverified(): Promise<void> {
    this.checkPending = true;
    await this.refresh();
    if (this.blocks === undefined) {
      void vscode.window.showWarningMessage(
        "Handrail: the workspace check did not answer, so nothing can be said about the blocks; see the Handrail output.",
      );
      return;
    }
    const message = blocksSummaryMessage(this.blocks);
    if (message !== undefined) {
      void vscode.window.showInformationMessage(`Handrail: ${message}`);
      return;
    }
    const states = this.blocks;
    const picked = await vscode.window.showQuickPick(blockItems(states), {
      title: blocksListTitle(states),
      matchOnDescription: true,
      matchOnDetail: true,
    });
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (picked === undefined || folder === undefined) {
      return;
    }
    const uri = vscode.Uri.joinPath(folder.uri, picked.block.path);
    const line = Math.max(0, picked.block.line - 1);
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

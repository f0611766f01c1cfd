// End-to-end test in real VS Code: code-server with the built VSIX, driven by Playwright and
// Debian's Chromium. Every step saves a screenshot under e2e/artifacts/ and fails loudly.
// Environment (set by scripts/e2e.sh): TOOLS_DIR, VSIX, HANDRAIL_SERVER, FIXTURE, ARTIFACTS.
import { spawn, execFileSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const { TOOLS_DIR, VSIX, HANDRAIL_SERVER, FIXTURE, ARTIFACTS } = process.env;
for (const [name, value] of Object.entries({
  TOOLS_DIR,
  VSIX,
  HANDRAIL_SERVER,
  FIXTURE,
  ARTIFACTS,
})) {
  if (!value) throw new Error(`${name} is not set: run scripts/e2e.sh`);
}
const require = createRequire(join(TOOLS_DIR, "package.json"));
const { chromium } = require("playwright-core");
const CODE_SERVER = join(TOOLS_DIR, "node_modules", ".bin", "code-server");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium";
const STEP_TIMEOUT = 30_000;
mkdirSync(ARTIFACTS, { recursive: true });

const FOUR_SENTENCES =
  "Given a text, return its shortest word. It must ignore punctuation. It must break ties alphabetically. It must follow the pattern of top_words() in src/wordcount.py.";
const TWO_SENTENCES =
  "Given a text, return its shortest word or None when it has no words. It must break ties alphabetically and follow the pattern of top_words() in src/wordcount.py.";

let failures = 0;
const log = (message) => console.log(`[e2e] ${message}`);

async function step(page, name, body) {
  log(`step ${name}`);
  try {
    await body();
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    log(`ok   ${name}`);
  } catch (error) {
    failures++;
    await page.screenshot({ path: join(ARTIFACTS, `${name}-FAILED.png`) }).catch(() => {});
    log(`FAIL ${name}: ${error instanceof Error ? error.stack : String(error)}`);
  }
}

function freePort(seed) {
  return 20000 + ((process.pid * 7 + seed) % 20000);
}

/** A code-server with its own profile, the VSIX installed and `settings` as user settings. */
async function startCodeServer(label, settings, approve = false) {
  const home = mkdtempSync(join(tmpdir(), `handrail-e2e-${label}-`));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_STATE_HOME: join(home, "state"),
    // The server's own folder on PATH: the fallback the extension uses when the setting is
    // ignored (Restricted Mode).
    PATH: `${dirname(HANDRAIL_SERVER)}:${process.env.PATH}`,
  };
  // VS Code takes the extension host's environment from a login shell of the user, which
  // rebuilds PATH from the profile: put the server's folder on PATH there, as a user would.
  const profile = `export PATH="${dirname(HANDRAIL_SERVER)}:$PATH"\n`;
  writeFileSync(join(home, ".profile"), profile);
  writeFileSync(join(home, ".bashrc"), profile);
  const userData = join(home, "ud");
  const extensions = join(home, "ext");
  mkdirSync(join(userData, "User"), { recursive: true });
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
  execFileSync(
    CODE_SERVER,
    ["--install-extension", VSIX, "--user-data-dir", userData, "--extensions-dir", extensions],
    { env, stdio: "inherit" },
  );
  const workspace = join(home, "workspace");
  cpSync(FIXTURE, workspace, { recursive: true });
  if (approve) {
    // The second gate besides Workspace Trust: the commands approved on this machine.
    execFileSync(HANDRAIL_SERVER, ["trust"], {
      cwd: workspace,
      env,
      input: "y\n",
      stdio: ["pipe", "inherit", "inherit"],
    });
  }
  const port = freePort(label.length);
  const child = spawn(
    CODE_SERVER,
    [
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--auth",
      "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
      workspace,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes("HTTP server listening")) {
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new Error(`code-server did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    label,
    child,
    home,
    workspace,
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`,
  };
}

async function openWorkbench(browser, server) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(server.url);
  await page.waitForSelector(".monaco-workbench", { timeout: STEP_TIMEOUT });
  // The extension activates on `.handrail/`; its status bar item says it is up.
  await page.waitForSelector('.statusbar-item:has-text("Handrail")', { timeout: STEP_TIMEOUT });
  return page;
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input");
  await page.keyboard.type(`>${title}`.replace(/^>>/, ">"));
  await page.waitForSelector(`.quick-input-list .monaco-list-row:has-text("${title}")`);
  await page.keyboard.press("Enter");
}

async function openFile(page, file, line) {
  const name = file.split("/").pop();
  // Quick Open can lose the first keystrokes while a notification or a list is settling:
  // try again rather than fail on the first attempt.
  const tab = page.locator(`.tab:has-text("${name}")`);
  for (let attempt = 1; ; attempt++) {
    if ((await tab.count()) > 0) {
      await tab.first().click();
      await page.waitForSelector(`.tab.active:has-text("${name}")`);
      break;
    }
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget input");
    await page.keyboard.type(file);
    await page.waitForSelector(`.quick-input-list .monaco-list-row:has-text("${name}")`);
    await page.waitForTimeout(500);
    await page.keyboard.press("Enter");
    try {
      await page.waitForSelector(`.tab.active:has-text("${name}")`, { timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt === 3) throw error;
      log(`quick open of ${file} did not open it; attempt ${attempt + 1}`);
    }
  }
  if (line !== undefined) {
    await page.keyboard.press("Control+G");
    await page.waitForSelector(".quick-input-widget input");
    await page.keyboard.type(String(line));
    await page.keyboard.press("Enter");
  }
}

async function problemsText(page) {
  await page.keyboard.press("Control+Shift+M");
  const panel = page.locator(".markers-panel");
  await panel.waitFor();
  return panel;
}

async function inputMessage(page, text) {
  await page.waitForSelector(`.quick-input-message:has-text("${text}")`);
}

/** The extension's output channel (server log and protocol trace) next to the screenshots. */
function copyLogs(server) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/Handrail\.log$/.test(entry.name)) found.push(path);
    }
  };
  walk(server.home);
  found.forEach((path, index) =>
    cpSync(path, join(ARTIFACTS, `${server.label}-handrail-${index}.log`)),
  );
}

function ledgerFiles(workspace) {
  return readdirSync(join(workspace, ".handrail", "ledger")).filter((name) =>
    name.endsWith(".json"),
  );
}

const baseSettings = {
  "chat.disableAIFeatures": true,
  "workbench.startupEditor": "none",
  "secondarySideBar.defaultVisibility": "hidden",
  "workbench.tips.enabled": false,
  "handrail.server.command": [HANDRAIL_SERVER, "lsp"],
  "handrail.debounceMs": 0,
  "handrail.trace.server": "messages",
};

// Chromium writes crash reports under $HOME/.config: keep them in a folder of the test's own.
const browserHome = mkdtempSync(join(tmpdir(), "handrail-e2e-browser-"));
const browser = await chromium.launch({
  env: { ...process.env, HOME: browserHome, XDG_CONFIG_HOME: join(browserHome, "config") },
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
const servers = [];
try {
  // Trusted: Workspace Trust turned off means every folder is trusted.
  const trusted = await startCodeServer(
    "trusted",
    {
      ...baseSettings,
      "security.workspace.trust.enabled": false,
    },
    true,
  );
  servers.push(trusted);
  const page = await openWorkbench(browser, trusted);

  await step(page, "01-hr300-squiggle", async () => {
    await openFile(page, "src/wordcount.py", 21);
    await page.waitForSelector(".view-overlays .squiggly-error");
    const panel = await problemsText(page);
    await panel.locator('.monaco-list-row:has-text("HR300")').first().waitFor();
    await panel.locator('.monaco-list-row:has-text("qqpas5.1")').first().waitFor();
  });

  await step(page, "02-status-bar-tokens", async () => {
    // The cursor sits in block qqpas5.1, so its task is the active one.
    await page.waitForSelector(
      '.statusbar-item:has-text("qqpas5"):has-text("tokens"):has-text("unverified")',
    );
    const text = await page.locator('.statusbar-item:has-text("qqpas5")').first().innerText();
    if (!/qqpas5 · [\d.]+k?\/24k tokens · 1 unverified/.test(text)) {
      throw new Error(`unexpected status bar text: ${text}`);
    }
    log(`status bar: ${text}`);
  });

  await step(page, "03-new-task-rejects-four-sentences", async () => {
    await runCommand(page, "Handrail: New AI Task");
    await page.waitForSelector('.quick-input-title:has-text("the spec")');
    await page.keyboard.type(FOUR_SENTENCES);
    await inputMessage(page, "Decompose into smaller tasks");
    await page.keyboard.press("Enter");
    // Refused: still the spec step.
    await page.waitForTimeout(1000);
    await page.waitForSelector('.quick-input-title:has-text("the spec")');
  });

  await step(page, "04-new-task-accepts-two-sentences", async () => {
    await page.keyboard.press("Control+A");
    await page.keyboard.type(TWO_SENTENCES);
    await inputMessage(page, "Press Enter to continue");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.quick-input-title:has-text("the files the model needs")');
    // The server's candidates: the title shows the selection's tokens against the budget,
    // each file its own count, and ignored files are left out.
    const title = page.locator('.quick-input-title:has-text("tokens of")');
    await title.waitFor();
    const text = await title.innerText();
    if (!/0 tokens of [\d,]+ \(cl100k_base\) · 0 of \d+ files/.test(text)) {
      throw new Error(`unexpected context title: ${text}`);
    }
    log(`context title: ${text}`);
    await page
      .locator('.quick-input-list .monaco-list-row:has-text("src/wordcount.py"):has-text("tokens")')
      .first()
      .waitFor();
  });

  await step(page, "05-context-and-prompt-pack", async () => {
    await page.keyboard.type("wordcount.py");
    const row = page
      .locator('.quick-input-list .monaco-list-row:has-text("src/wordcount.py")')
      .first();
    await row.waitFor();
    // A click on the row's label toggles it in a multi-select list; the count confirms it.
    await row.locator(".quick-input-list-label, .label-name").first().click();
    const count = page.locator(
      '.quick-input-count:has-text("1 Selected"), .quick-input-count:has-text("1 selected")',
    );
    if (!(await count.isVisible())) {
      await row
        .locator("input[type=checkbox], .quick-input-list-checkbox, .monaco-custom-toggle")
        .first()
        .click({ force: true });
    }
    await count.first().waitFor();
    // The running total follows the selection.
    const total = page.locator('.quick-input-title:has-text("· 1 of")');
    await total.waitFor();
    const text = await total.innerText();
    if (!/[1-9][\d,]* tokens of [\d,]+ \(cl100k_base\) · 1 of \d+ files/.test(text)) {
      throw new Error(`unexpected context title after the selection: ${text}`);
    }
    log(`context title: ${text}`);
    await page.screenshot({ path: join(ARTIFACTS, "05a-context-total.png") });
    await page.keyboard.press("Enter");
    await page.waitForSelector('.quick-input-title:has-text("Context passes")');
    await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("Copy Prompt Pack")');
    await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("src/wordcount.py")');
  });

  await step(page, "06-prompt-pack-copied", async () => {
    await page.keyboard.press("Escape");
    const tasks = readdirSync(join(trusted.workspace, ".handrail", "tasks")).filter((n) =>
      n.endsWith(".toml"),
    );
    if (tasks.length !== 3) {
      throw new Error(
        `expected the new task beside the two fixture tasks, found ${tasks.join(", ")}`,
      );
    }
    await page.waitForSelector('.statusbar-item:has-text("/24k tokens")');
  });

  await step(page, "06b-add-to-context", async () => {
    const before = new Set(readdirSync(join(trusted.workspace, ".handrail", "tasks")));
    await openFile(page, "README.md");
    await runCommand(page, "Handrail: Add to Handrail Context");
    await page.waitForSelector(
      '.notifications-toasts:has-text("added README.md to the context of task")',
    );
    const created = readdirSync(join(trusted.workspace, ".handrail", "tasks")).filter((name) =>
      name.endsWith(".toml"),
    );
    const newTask = [...created].find((name) => !["qqpas5.toml", "vbu2ph.toml"].includes(name));
    if (newTask === undefined || before.size === 0)
      throw new Error("the new task's file is missing");
    const text = readFileSync(join(trusted.workspace, ".handrail", "tasks", newTask), "utf8");
    if (!/"src\/wordcount\.py",\s*\n\s*"README\.md"/.test(text)) {
      throw new Error(`README.md was not appended to the context:\n${text}`);
    }
  });

  await step(page, "07-verify-trusted-clears-hr300", async () => {
    await openFile(page, "src/wordcount.py", 22);
    await page.waitForSelector(".view-overlays .squiggly-error");
    await runCommand(page, "Handrail: Verify Block");
    // The fixture's tests pass, so the run is recorded for the block's current content and
    // the server replaces HR300 with the next step, HR304 (explain every line).
    const panel = await problemsText(page);
    await panel.locator('.monaco-list-row:has-text("HR304")').first().waitFor({ timeout: 120_000 });
    if ((await panel.locator('.monaco-list-row:has-text("HR300")').count()) > 0) {
      throw new Error("HR300 is still listed in the Problems panel after verification");
    }
    await page.waitForSelector('.statusbar-item:has-text("0 unverified")');
  });
  await page.close();

  // Untrusted: Workspace Trust on, the folder never trusted, no start-up prompt.
  const untrusted = await startCodeServer("untrusted", {
    ...baseSettings,
    "security.workspace.trust.enabled": true,
    "security.workspace.trust.startupPrompt": "never",
    "security.workspace.trust.banner": "always",
  });
  servers.push(untrusted);
  const restricted = await openWorkbench(browser, untrusted);
  await step(restricted, "08-untrusted-still-analyses", async () => {
    await openFile(restricted, "src/wordcount.py", 22);
    await restricted.waitForSelector(".view-overlays .squiggly-error");
  });
  await step(restricted, "09-untrusted-verify-runs-nothing", async () => {
    const before = ledgerFiles(untrusted.workspace);
    await runCommand(restricted, "Handrail: Verify Block");
    await restricted.waitForSelector(
      '.notifications-toasts:has-text("only runs in a trusted workspace")',
    );
    await restricted.waitForTimeout(2000);
    const after = ledgerFiles(untrusted.workspace);
    if (after.length !== before.length) {
      throw new Error(`the ledger changed in Restricted Mode: ${before.length} -> ${after.length}`);
    }
    await restricted.waitForSelector(".view-overlays .squiggly-error");
  });
} finally {
  await browser.close();
  rmSync(browserHome, { recursive: true, force: true, maxRetries: 3 });
  for (const server of servers) {
    server.child.kill("SIGTERM");
    copyLogs(server);
    rmSync(server.home, { recursive: true, force: true, maxRetries: 3 });
  }
}
if (failures > 0) {
  log(`${failures} step(s) failed; screenshots in ${ARTIFACTS}`);
  process.exit(1);
}
log(`all steps passed; screenshots in ${ARTIFACTS}`);

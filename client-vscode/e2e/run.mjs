// End-to-end test in real VS Code: code-server with the built VSIX, driven by Playwright and
// Debian's Chromium. Every step saves a screenshot under e2e/artifacts/ and fails loudly.
// Environment (set by scripts/e2e.sh): TOOLS_DIR, VSIX, HANDRAIL_SERVER, FIXTURE, ARTIFACTS,
// FAKE_MODEL_VSIX (the test-only language model of e2e/fake-model). E2E_ONLY=trusted,chat
// runs only the named groups (trusted, untrusted, hostile, chat, tasks, accepted) while working on
// one of them.
import { spawn, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
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

const { TOOLS_DIR, VSIX, HANDRAIL_SERVER, FIXTURE, ARTIFACTS, FAKE_MODEL_VSIX } = process.env;
for (const [name, value] of Object.entries({
  TOOLS_DIR,
  VSIX,
  HANDRAIL_SERVER,
  FIXTURE,
  ARTIFACTS,
  FAKE_MODEL_VSIX,
})) {
  if (!value) throw new Error(`${name} is not set: run scripts/e2e.sh`);
}
const require = createRequire(join(TOOLS_DIR, "package.json"));
const { chromium } = require("playwright-core");
const CODE_SERVER = join(TOOLS_DIR, "node_modules", ".bin", "code-server");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium";
const STEP_TIMEOUT = 30_000;
const ONLY = process.env.E2E_ONLY ? new Set(process.env.E2E_ONLY.split(",")) : undefined;
const runs = (group) => ONLY === undefined || ONLY.has(group);
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
async function startCodeServer(label, settings, approve = false, options = {}) {
  const home = mkdtempSync(join(tmpdir(), `handrail-e2e-${label}-`));
  const workspace = join(home, "workspace");
  // The server's own folder on PATH: the fallback the extension uses when the setting is
  // ignored (Restricted Mode). `pathPrefix` adds entries before it (the hostile scenarios).
  const pathHead = [...(options.pathPrefix?.(workspace) ?? []), dirname(HANDRAIL_SERVER)].join(":");
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_STATE_HOME: join(home, "state"),
    PATH: `${pathHead}:${process.env.PATH}`,
  };
  // VS Code takes the extension host's environment from a login shell of the user, which
  // rebuilds PATH from the profile: put the server's folder on PATH there, as a user would.
  const profile = `export PATH="${pathHead}:$PATH"\n`;
  writeFileSync(join(home, ".profile"), profile);
  writeFileSync(join(home, ".bashrc"), profile);
  const userData = join(home, "ud");
  const extensions = join(home, "ext");
  mkdirSync(join(userData, "User"), { recursive: true });
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
  for (const vsix of [VSIX, ...(options.extraVsix ?? [])]) {
    execFileSync(
      CODE_SERVER,
      ["--install-extension", vsix, "--user-data-dir", userData, "--extensions-dir", extensions],
      { env, stdio: "inherit" },
    );
  }
  cpSync(FIXTURE, workspace, { recursive: true });
  options.prepare?.(workspace);
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

/**
 * One scenario group's set-up: a code-server (see startCodeServer) that is shut down with the
 * others at the end, and a workbench page on it with the extension up.
 */
async function openSession(label, settings, approve = false, options = {}) {
  const server = await startCodeServer(label, settings, approve, options);
  servers.push(server);
  return { server, page: await openWorkbench(browser, server) };
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
  // Ctrl+Shift+M toggles the Problems view: it closes a view that is open and focused, and
  // a toast or a quick input can swallow one press. Press until the panel shows.
  const panel = page.locator(".markers-panel");
  for (let attempt = 0; attempt < 3 && !(await panel.isVisible()); attempt++) {
    await page.keyboard.press("Control+Shift+M");
    await panel.waitFor({ timeout: 5000 }).catch(() => undefined);
  }
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

// --- chat: the @handrail participant against the test-only model of e2e/fake-model ---------

/** Every request the fake model got (it appends one JSON line per request to $HOME). */
function modelRequests(server) {
  const file = join(server.home, "fake-model-requests.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

function taskIds(workspace) {
  return readdirSync(join(workspace, ".handrail", "tasks"))
    .filter((name) => name.endsWith(".toml"))
    .map((name) => name.slice(0, -".toml".length))
    .sort();
}

async function openChat(page) {
  await runCommand(page, "Chat: Open Chat");
  await page.locator(".interactive-input-editor").first().waitFor();
}

/** The largest list index of a chat response row (the list is virtualised: rows come and go). */
function lastResponseIndex(page) {
  return page.evaluate(() => {
    let last = -1;
    for (const row of document.querySelectorAll(".interactive-list .monaco-list-row")) {
      if (row.querySelector(".interactive-response") !== null) {
        last = Math.max(last, Number(row.getAttribute("data-index")));
      }
    }
    return last;
  });
}

/** Types `text` into the chat input (replacing what is there, e.g. a sticky @handrail), sends
 * it and returns the response's row once the participant has finished it. */
async function askChat(page, text) {
  const before = await lastResponseIndex(page);
  // A hover (e.g. over an attachment) would take the click: move the pointer away first.
  await page.mouse.move(5, 5);
  await page.waitForTimeout(300);
  await page.locator(".interactive-input-editor").first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text, { delay: 15 });
  await page.waitForTimeout(300);
  // Enter may first accept an open completion (a participant, a command): press it again until
  // the input is empty, i.e. the request was sent.
  const input = page.locator(".interactive-input-editor .view-lines").first();
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press("Enter");
    await page.waitForTimeout(700);
    // Monaco renders spaces as no-break spaces.
    const left = (await input.innerText()).replace(/\u00a0/g, " ");
    if (!left.includes(text.slice(-8))) break;
  }
  const handle = await page.waitForFunction(
    (previous) => {
      for (const row of document.querySelectorAll(".interactive-list .monaco-list-row")) {
        const response = row.querySelector(".interactive-response");
        if (
          response !== null &&
          Number(row.getAttribute("data-index")) > previous &&
          !response.classList.contains("chat-response-loading")
        ) {
          return Number(row.getAttribute("data-index"));
        }
      }
      return false;
    },
    before,
    { timeout: 60_000 },
  );
  const index = await handle.jsonValue();
  return page.locator(`.interactive-list .monaco-list-row[data-index="${index}"]`);
}

const FOUR_SENTENCE_TASK = `# Handrail task written by the e2e test: a spec past the hard limit.
id = "fourss"
spec = '''
${FOUR_SENTENCES}'''
context = ["src/wordcount.py"]
created = 2026-11-25T17:12:11Z
`;

async function chatScenarios() {
  const { server: chat, page } = await openSession(
    "chat",
    {
      ...baseSettings,
      // Chat on, and nothing else: the fake model is the only model, so it is the one the
      // chat view selects; no Copilot, no sign-in.
      "chat.disableAIFeatures": false,
      "security.workspace.trust.enabled": false,
    },
    false,
    {
      extraVsix: [FAKE_MODEL_VSIX],
      prepare: (workspace) => {
        writeFileSync(join(workspace, ".handrail", "tasks", "fourss.toml"), FOUR_SENTENCE_TASK);
        // A git repository: files an agent changes on disk are compared with HEAD (step 17).
        const git = (...args) =>
          execFileSync(
            "git",
            ["-c", "user.name=E2E", "-c", "user.email=e2e@example.com", ...args],
            {
              cwd: workspace,
              stdio: "ignore",
            },
          );
        git("init", "-q");
        git("add", "-A");
        git("commit", "-q", "-m", "fixture");
      },
    },
  );

  await step(page, "10-chat-help", async () => {
    await openChat(page);
    // The fake model is the selected model: the picker shows its name, not a sign-in.
    await page.locator('.chat-input-toolbars :text("Fixed Code")').first().waitFor();
    const response = await askChat(page, "@handrail what can you do?");
    await response.locator(':text("/generate [task]")').first().waitFor();
    await response.locator(':text("/task <spec>")').first().waitFor();
    const usage = await askChat(page, "@handrail /task");
    await usage.locator(':text("Usage:")').first().waitFor();
  });

  await step(page, "11-chat-generate-refused-four-sentences", async () => {
    const response = await askChat(page, "@handrail /generate fourss");
    await response.locator(':text("Refused: nothing was sent to the model.")').waitFor();
    await response.locator(':text("HR101")').first().waitFor();
    await response.locator(':text-matches("decompose", "i")').first().waitFor();
    if (
      (await response.locator('.monaco-button:has-text("Insert as generated block")').count()) > 0
    ) {
      throw new Error("a refused /generate offers to insert code");
    }
    await page.waitForTimeout(1000);
    const sent = modelRequests(chat);
    if (sent.length !== 0) {
      throw new Error(`the model got ${sent.length} request(s) for a refused task`);
    }
  });

  await step(page, "12-chat-task-refuses-four-sentences", async () => {
    const before = taskIds(chat.workspace);
    const response = await askChat(page, `@handrail /task ${FOUR_SENTENCES}`);
    await response.locator(':text("The spec does not pass")').waitFor();
    await response.locator(':text("HR101")').first().waitFor();
    const after = taskIds(chat.workspace);
    if (after.join() !== before.join()) {
      throw new Error(`a task was created for a refused spec: ${after.join(", ")}`);
    }
  });

  await step(page, "13-chat-task-and-context", async () => {
    const before = new Set(taskIds(chat.workspace));
    const response = await askChat(page, `@handrail /task ${TWO_SENTENCES}`);
    await response.locator(':text("Created task")').waitFor();
    const created = taskIds(chat.workspace).find((id) => !before.has(id));
    if (created === undefined) throw new Error("no task file was created");
    log(`created task ${created}`);
    // The new task is the active one: /context without a task id checks it.
    const context = await askChat(page, "@handrail /context");
    await context.locator(`:text("Context of ${created}: passes")`).waitFor();
    await context.locator(':text("cl100k_base")').first().waitFor();
    // A task with context: each entry with its tokens.
    const counted = await askChat(page, "@handrail /context vbu2ph");
    await counted.locator(':text("Context of vbu2ph: passes")').waitFor();
    await counted.locator('tr:has-text("src/wordcount.py"):has-text("ok")').first().waitFor();
    await counted.locator('tr:has-text("tests/test_wordcount.py")').first().waitFor();
    if (modelRequests(chat).length !== 0) throw new Error("/task or /context sent a request");
  });

  await step(page, "13b-chat-task-with-attached-file", async () => {
    // The editor in front is offered as context in the chat input; a click attaches it, and
    // /task makes it the task's context entry.
    await openFile(page, "src/wordcount.py", 3);
    const offered = page.locator('.chat-attached-context :text("wordcount.py")').first();
    await offered.waitFor();
    await offered.click();
    await page.waitForTimeout(500);
    const before = new Set(taskIds(chat.workspace));
    const response = await askChat(
      page,
      "@handrail /task Given a text, return its words in reverse order or an empty list when it has none. It must keep duplicates and follow the pattern of words() in src/wordcount.py.",
    );
    await response.locator(':text("Created task")').waitFor();
    const created = taskIds(chat.workspace).find((id) => !before.has(id));
    if (created === undefined) throw new Error("no task file was created");
    const text = readFileSync(
      join(chat.workspace, ".handrail", "tasks", `${created}.toml`),
      "utf8",
    );
    if (!/context = \[\s*"src\/wordcount\.py",?\s*\]/.test(text)) {
      throw new Error(`the attached file is not the task's context:\n${text}`);
    }
  });

  await step(page, "14-chat-generate-streams-code", async () => {
    // The cursor where the block goes: the blank line between the two blocks.
    await openFile(page, "src/wordcount.py", 20);
    const response = await askChat(page, "@handrail /generate vbu2ph");
    await response.locator(':text("def shortest_word")').first().waitFor();
    await response.locator('.monaco-button:has-text("Insert as generated block")').waitFor();
    const sent = modelRequests(chat);
    if (sent.length !== 1) throw new Error(`expected one model request, got ${sent.length}`);
    const [request] = sent;
    if (request.modelOptions?.temperature !== 0.2) {
      throw new Error(`the workflow's temperature was not sent: ${JSON.stringify(request)}`);
    }
    const text = request.messages.map((message) => message.text).join("\n");
    if (!text.includes("# Task vbu2ph") || !text.includes("src/wordcount.py")) {
      throw new Error(`the prompt pack was not sent:\n${text.slice(0, 500)}`);
    }
    // Issue 13.5: the pack names the file and the place at the cursor.
    if (!text.includes("The code goes into `src/wordcount.py`, before line 20.")) {
      throw new Error(`the pack does not say where the code goes:\n${text.slice(0, 1500)}`);
    }
    log(`model got ${request.messages.length} message(s) at temperature 0.2`);
  });

  await step(page, "15-chat-insert-generated-block", async () => {
    const before = ledgerFiles(chat.workspace).length;
    await page.locator('.monaco-button:has-text("Insert as generated block")').last().click();
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:begin vbu2ph.2")');
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:end vbu2ph.2")');
    await page.waitForSelector('.editor-instance .view-lines:has-text("def shortest_word")');
    // The block is recorded and unverified: HR300 on it, in the editor and the Problems panel.
    await page.waitForSelector(".view-overlays .squiggly-error");
    const panel = await problemsText(page);
    await panel
      .locator('.monaco-list-row:has-text("HR300"):has-text("vbu2ph.2")')
      .first()
      .waitFor();
    const after = ledgerFiles(chat.workspace).length;
    if (after <= before) throw new Error(`the block was not recorded: ${before} -> ${after}`);
  });

  await step(page, "16-lm-tools", async () => {
    // Agent mode itself is Copilot's (it asks to sign in), so the test extension calls the
    // tools as an agent would, through vscode.lm.invokeTool.
    const calls = [
      { name: "handrail_checkSpec", input: { spec: FOUR_SENTENCES } },
      { name: "handrail_checkContext", input: { task: "vbu2ph" } },
      {
        name: "handrail_markGenerated",
        input: { path: "src/wordcount.py", startLine: 6, endLine: 9, task: "vbu2ph" },
      },
    ];
    writeFileSync(join(chat.home, "tool-calls.json"), JSON.stringify(calls));
    await openFile(page, "src/wordcount.py");
    await runCommand(page, "Handrail E2E: Invoke Handrail Tools");
    // The marking tool asks first (prepareInvocation's confirmation).
    const dialog = page.locator('.monaco-dialog-box:has-text("Mark these lines as generated?")');
    await dialog.waitFor();
    await dialog.locator(':text("Wrap lines 6–9 of src/wordcount.py")').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "16a-lm-tools-confirm.png") });
    await dialog.locator('.monaco-button:has-text("Yes")').click();
    await page.waitForSelector('.notifications-toasts:has-text("invoked 3 tool(s)")', {
      timeout: 60_000,
    });
    const results = readFileSync(join(chat.home, "tool-results.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line));
    log(`tool results: ${JSON.stringify(results).slice(0, 1500)}`);
    const names = results[0].registered.map((tool) => tool.name).sort();
    const expected = ["handrail_checkContext", "handrail_checkSpec", "handrail_markGenerated"];
    if (names.join() !== expected.join()) throw new Error(`registered tools: ${names.join(", ")}`);
    const [, spec, context, mark] = results;
    if (!spec.ok || !/does not pass/.test(spec.text) || !/Decompose/.test(spec.text)) {
      throw new Error(`handrail_checkSpec: ${JSON.stringify(spec)}`);
    }
    if (!spec.text.includes('"code":"HR101"')) throw new Error("checkSpec lacks HR101");
    if (!context.ok || !/The context of vbu2ph passes/.test(context.text)) {
      throw new Error(`handrail_checkContext: ${JSON.stringify(context)}`);
    }
    if (!mark.ok || !/as block vbu2ph\.3 of task vbu2ph/.test(mark.text)) {
      throw new Error(`handrail_markGenerated: ${JSON.stringify(mark)}`);
    }
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:begin vbu2ph.3")');
    const panel = await problemsText(page);
    await panel
      .locator('.monaco-list-row:has-text("HR300"):has-text("vbu2ph.3")')
      .first()
      .waitFor();
    if (modelRequests(chat).length !== 1) throw new Error("a tool sent a model request");
  });

  await step(page, "17-agent-edit-on-disk-gets-hr308", async () => {
    // A coding agent writes a file behind the editor's back while a task is active: the
    // server hints HR308 on it, and the quick fix marks it for the active task.
    writeFileSync(
      join(chat.workspace, "src", "agent_added.py"),
      'def longest_word(text: str) -> str | None:\n    """The longest word, or None."""\n' +
        "    found = text.split()\n    return max(found, key=len) if found else None\n",
    );
    await page.waitForTimeout(1500); // the file watcher, then the server's 0.3 s pause
    await openFile(page, "src/agent_added.py", 2);
    const fix = await quickFix(
      page,
      ':text-matches("Mark changed lines as generated for task [a-z2-7]{6}")',
    );
    await page.screenshot({ path: join(ARTIFACTS, "17a-hr308-quick-fix.png") });
    await fix.click();
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:begin")');
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:end")');
    const panel = await problemsText(page);
    await panel.locator('.monaco-list-row:has-text("agent_added.py")').first().waitFor();
    await panel.locator('.monaco-list-row:has-text("HR300")').first().waitFor();
    // Each finding once: VS Code keeps pushed and pulled diagnostics apart, so a server that
    // did both would double the status bar's count (and list every quick fix twice).
    // Workspace diagnostics (issue 19.3) add the findings of files that are not open (task
    // files, other blocks): every error row counts, each once.
    const rows = await panel.locator(".monaco-list-row:has(.codicon-error)").count();
    const counted = await page.locator("#status\\.problems").innerText();
    const errors = Number(/(\d+)/.exec(counted)?.[1]);
    if (errors !== rows)
      throw new Error(`status bar counts ${errors} errors, Problems lists ${rows}`);
  });
}

// --- hostile: a repository that plants code where a careless launch would run it -----------

/**
 * Plants, into the copied fixture, code that writes a file into `sentinels` when it runs: its
 * own `handrail/`, `pygls/` and `click/` packages (imported instead of Handrail's by
 * `python -m handrail lsp` in the workspace folder), a `.venv` with `python` and `handrail`,
 * `bin/handrail` and `git` (found through the relative PATH entries `.` and `bin`), and
 * workspace settings that point the server at them (issue 16).
 */
function plantHostileCode(workspace, sentinels) {
  mkdirSync(sentinels, { recursive: true });
  const python = (name) => `open(${JSON.stringify(join(sentinels, name))}, "w").write("ran")\n`;
  const shell = (name) =>
    `#!/bin/sh\necho ran > ${JSON.stringify(join(sentinels, name))}\nexit 1\n`;
  const files = {
    "handrail/__init__.py": [python("handrail-package")],
    "handrail/__main__.py": [python("handrail-main")],
    "pygls/__init__.py": [python("pygls-package")],
    "click/__init__.py": [python("click-package")],
    ".venv/bin/python": [shell("venv-python"), 0o755],
    ".venv/bin/handrail": [shell("venv-handrail"), 0o755],
    "bin/handrail": [shell("bin-handrail"), 0o755],
    git: [shell("root-git"), 0o755],
    ".vscode/settings.json": [
      JSON.stringify(
        {
          "handrail.server.command": [".venv/bin/handrail", "lsp"],
          "handrail.server.python": ".venv/bin/python",
          "python.defaultInterpreterPath": ".venv/bin/python",
        },
        null,
        2,
      ),
    ],
  };
  for (const [name, [text, mode]] of Object.entries(files)) {
    mkdirSync(dirname(join(workspace, name)), { recursive: true });
    writeFileSync(join(workspace, name), text, mode === undefined ? {} : { mode });
  }
  // A git repository, so that the server lists and searches files with git in this folder.
  for (const args of [
    ["init", "-q"],
    ["add", "-A"],
    ["commit", "-q", "-m", "fixture"],
  ]) {
    execFileSync("git", ["-c", "user.name=E2E", "-c", "user.email=e2e@example.com", ...args], {
      cwd: workspace,
      stdio: "ignore",
    });
  }
}

/** The extension's output channel so far (the Handrail log files under the profile). */
function handrailLog(server) {
  let text = "";
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/Handrail\.log$/.test(entry.name)) text += readFileSync(path, "utf8");
    }
  };
  walk(server.home);
  return text;
}

function assertNoSentinel(sentinels) {
  const written = readdirSync(sentinels);
  if (written.length > 0) {
    throw new Error(`the workspace's own code ran: ${written.join(", ")}`);
  }
}

async function hostileScenarios() {
  const hostileSettings = {
    ...baseSettings,
    // Only Handrail's launches are under test: VS Code's own git extension stays out.
    "git.enabled": false,
  };
  // Restricted Mode: `.`, `bin` and the workspace's `.venv/bin` first on PATH.
  const restrictedSentinels = join(tmpdir(), `handrail-e2e-sentinels-${process.pid}-restricted`);
  const { server: restricted, page } = await openSession(
    "hostile-restricted",
    {
      ...hostileSettings,
      "security.workspace.trust.enabled": true,
      "security.workspace.trust.startupPrompt": "never",
      "security.workspace.trust.banner": "always",
    },
    false,
    {
      pathPrefix: (workspace) => [".", "bin", join(workspace, ".venv", "bin")],
      prepare: (workspace) => plantHostileCode(workspace, restrictedSentinels),
    },
  );
  await step(page, "18-hostile-restricted-runs-none-of-its-code", async () => {
    await openFile(page, "src/wordcount.py", 22);
    // The real server analyses: HR300 on the unverified block.
    await page.waitForSelector(".view-overlays .squiggly-error");
    const panel = await problemsText(page);
    await panel.locator('.monaco-list-row:has-text("HR300")').first().waitFor();
    const log = handrailLog(restricted);
    const used = /Using handrail on PATH \((\S+) lsp\) in (\S+)/.exec(log);
    if (used === null) throw new Error(`no PATH launch in the log:\n${log.slice(0, 2000)}`);
    if (
      used[1] !== join(dirname(HANDRAIL_SERVER), "handrail") ||
      used[2].startsWith(restricted.workspace)
    ) {
      throw new Error(`unexpected launch: ${used[0]}`);
    }
    if (!log.includes("handrail.server.command (Restricted Mode)")) {
      throw new Error("the server command setting was not reported as skipped in Restricted Mode");
    }
    assertNoSentinel(restrictedSentinels);
  });
  await page.close();

  // Trusted: the server from a user-level interpreter setting, `python -I -m handrail lsp`;
  // `.` and `bin` on PATH (never searched), the workspace's own settings ignored (machine scope).
  const trustedSentinels = join(tmpdir(), `handrail-e2e-sentinels-${process.pid}-trusted`);
  const { server: trusted, page: trustedPage } = await openSession(
    "hostile-trusted",
    {
      ...hostileSettings,
      "handrail.server.command": [],
      "handrail.server.python": join(dirname(HANDRAIL_SERVER), "python"),
      "security.workspace.trust.enabled": false,
    },
    false,
    {
      pathPrefix: () => [".", "bin"],
      prepare: (workspace) => plantHostileCode(workspace, trustedSentinels),
    },
  );
  await step(trustedPage, "19-hostile-trusted-isolated-interpreter", async () => {
    await openFile(trustedPage, "src/wordcount.py", 22);
    // A launch that imported the planted `handrail/` has no server: say so rather than time out.
    await trustedPage.waitForSelector(".view-overlays .squiggly-error").catch((error) => {
      assertNoSentinel(trustedSentinels);
      throw error;
    });
    const panel = await problemsText(trustedPage);
    await panel.locator('.monaco-list-row:has-text("HR300")').first().waitFor();
    const log = handrailLog(trusted);
    const used =
      /Using the handrail\.server\.python setting \((\S+) -I -m handrail lsp\) in (\S+)/.exec(log);
    if (used === null) throw new Error(`no isolated interpreter launch:\n${log.slice(0, 2000)}`);
    if (used[2].startsWith(trusted.workspace)) {
      throw new Error(`the server runs in the workspace: ${used[0]}`);
    }
    assertNoSentinel(trustedSentinels);
  });
  await step(trustedPage, "20-hostile-trusted-git-listing", async () => {
    // New AI Task lists the workspace's files through the server, which runs git there.
    await runCommand(trustedPage, "Handrail: New AI Task");
    await trustedPage.waitForSelector('.quick-input-title:has-text("the spec")');
    await trustedPage.keyboard.type(TWO_SENTENCES);
    await inputMessage(trustedPage, "Press Enter to continue");
    await trustedPage.keyboard.press("Enter");
    await trustedPage
      .locator('.quick-input-list .monaco-list-row:has-text("src/wordcount.py")')
      .first()
      .waitFor();
    await trustedPage.keyboard.press("Escape");
    assertNoSentinel(trustedSentinels);
  });
  await trustedPage.close();
  rmSync(restrictedSentinels, { recursive: true, force: true });
  rmSync(trustedSentinels, { recursive: true, force: true });
}

// --- tasks: a task's life in the editor (issue 13): edit, close, reopen, regenerate, drift ---

const EDITED_SPEC =
  "Given a text, return its longest word or None when it has no words. It must break ties by the later word alphabetically and follow the pattern of top_words() in src/wordcount.py.";
const FIVE_SENTENCES =
  "Given a text, return its shortest word. It must ignore punctuation. It must break ties alphabetically. Given a text, return its longest word. It must follow the pattern of top_words() in src/wordcount.py.";
const CHILD_SPECS = [
  "Given a text, return its shortest word or None when it has no words. It must ignore punctuation and break ties alphabetically.",
  "",
  "",
  "Given a text, return its longest word or None when it has no words. It must follow the pattern of top_words() in src/wordcount.py.",
  "",
];
/** What the test's model endpoint answers: a longest_word() the fixture's tests pass. */
const REGENERATED = [
  "Here is a new attempt.",
  "",
  "```python",
  "def longest_word(text: str) -> str | None:",
  '    """The longest word of `text`, ties broken by the later word; None without words."""',
  "    found = words(text)",
  "    if not found:",
  "        return None",
  "    return max(found, key=lambda word: (len(word), word))",
  "```",
].join("\n");

/**
 * An OpenAI-compatible chat-completions endpoint on 127.0.0.1 that streams `answer` to every
 * request: the model the language server's own `handrail.generate` talks to (the user's
 * settings file points at it), as e2e/fake-model is the model of VS Code's chat.
 */
async function startModelEndpoint(answer) {
  const { createServer } = await import("node:http");
  const requests = [];
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({
      id: "e2e",
      object: "chat.completion.chunk",
      model: "e2e-model",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (piece) => (body += piece));
    request.on("end", () => {
      requests.push({ path: request.url, ...JSON.parse(body || "{}") });
      response.writeHead(200, { "Content-Type": "text/event-stream" });
      response.write(chunk({ role: "assistant" }));
      for (const piece of answer.match(/[\s\S]{1,40}/g)) response.write(chunk({ content: piece }));
      response.write(chunk({}, "stop"));
      response.end("data: [DONE]\n\n");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => server.close(),
  };
}

/** `handrail stats --format json` in the workspace, with the handrail the editor runs. */
function statsOf(server) {
  const out = execFileSync(HANDRAIL_SERVER, ["stats", "--format", "json"], {
    cwd: server.workspace,
    env: {
      ...process.env,
      HOME: server.home,
      XDG_CONFIG_HOME: join(server.home, "config"),
      XDG_STATE_HOME: join(server.home, "state"),
    },
    encoding: "utf8",
  });
  return JSON.parse(out).total;
}

/** Picks `label` in the open quick pick by typing it (the list filters) and pressing Enter. */
async function pickItem(page, title, label) {
  await page.waitForSelector(`.quick-input-title:has-text("${title}")`);
  await page.keyboard.type(label);
  await page.waitForSelector(`.quick-input-list .monaco-list-row:has-text("${label}")`);
  await page.keyboard.press("Enter");
}

/** The first six characters of each row the Mark Selection picker offers (lines 6-7 selected
 * first): the task ids, and the start of "New task from the template". */
async function markPickerTasks(page, shot) {
  await openFile(page, "src/wordcount.py", 6);
  await page.keyboard.press("Shift+ArrowDown");
  await runCommand(page, "Handrail: Mark Selection as Generated");
  await page.waitForSelector('.quick-input-title:has-text("for which task?")');
  await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("New task")');
  // The open tasks come from the server after the first row: wait for one of them.
  await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("qqpas5")');
  const rows = await page.locator(".quick-input-list .monaco-list-row").allInnerTexts();
  await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`) });
  await page.keyboard.press("Escape");
  // Each row starts with its task id (the title follows).
  return rows.map((row) => row.trim().slice(0, 6));
}

/** Open the quick-fix menu until the action `title` (a string, or a selector such as
 * `:text-matches(...)`) shows; press Escape and retry while the server is still analysing. */
async function quickFix(page, title) {
  const selector = title.startsWith(":") ? title : `:text("${title}")`;
  const fix = page.locator(`.action-widget ${selector}`);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("Control+.");
    try {
      await fix.first().waitFor({ timeout: 5_000 });
      break;
    } catch (error) {
      await page.keyboard.press("Escape");
      if (attempt === 6) throw error;
      await page.waitForTimeout(1000);
    }
  }
  return fix.first();
}

async function taskScenarios() {
  const endpoint = await startModelEndpoint(REGENERATED);
  const { server: tasks, page } = await openSession(
    "tasks",
    { ...baseSettings, "security.workspace.trust.enabled": false },
    true,
    {
      prepare: (workspace) => {
        // The user's own generation settings (never the repository's): the test endpoint.
        // HOME and XDG_CONFIG_HOME both point into the test's folder; whichever the server's
        // environment keeps, the file is there.
        const settings = `[generate]\nbase_url = "${endpoint.url}"\nmodel = "e2e-model"\ntimeout_s = 60\n`;
        for (const config of ["config", ".config"]) {
          const dir = join(dirname(workspace), config, "handrail");
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, "settings.toml"), settings);
        }
        // qqpas5's fixture context names .env, which no pack may hold (HR203): without it the
        // task can be generated for.
        const task = join(workspace, ".handrail", "tasks", "qqpas5.toml");
        writeFileSync(task, readFileSync(task, "utf8").replace('    ".env",\n', ""));
      },
    },
  );
  const taskFile = (id) =>
    readFileSync(join(tasks.workspace, ".handrail", "tasks", `${id}.toml`), "utf8");

  await step(page, "30-tasks-edit-spec-reopens-block", async () => {
    await openFile(page, "src/wordcount.py", 22);
    await runCommand(page, "Handrail: Edit Task");
    await pickItem(page, "Edit which task?", "qqpas5");
    await pickItem(page, "Edit task qqpas5: what?", "Spec");
    await page.waitForSelector('.quick-input-title:has-text("Edit task qqpas5: the spec")');
    await page.keyboard.press("Control+A");
    await page.keyboard.type(EDITED_SPEC);
    await inputMessage(page, "Press Enter to continue");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.notifications-toasts:has-text("re-opened (HR314): qqpas5.1")');
    // The block's own finding, in the Problems panel.
    const panel = await problemsText(page);
    await panel
      .locator(
        '.monaco-list-row:has-text("HR314"):has-text("qqpas5.1"):has-text("generated under an earlier spec")',
      )
      .first()
      .waitFor();
    const text = taskFile("qqpas5");
    if (!text.includes("[[spec_history]]") || !text.includes("ties by the later word")) {
      throw new Error(`the spec and its history were not written:\n${text}`);
    }
  });

  await step(page, "31-tasks-close-leaves-the-mark-picker", async () => {
    const before = await markPickerTasks(page, "31a-mark-picker-before");
    if (!before.includes("vbu2ph")) throw new Error(`vbu2ph not offered: ${before.join(", ")}`);
    await runCommand(page, "Handrail: Close Task");
    await pickItem(page, "Close which task?", "vbu2ph");
    await pickItem(page, "Close task vbu2ph: why?", "Done");
    await page.waitForSelector('.quick-input-title:has-text("Close task vbu2ph (done)")');
    await page.keyboard.type("merged in the e2e");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.notifications-toasts:has-text("task vbu2ph closed (done)")');
    if (!/status = "done"/.test(taskFile("vbu2ph"))) {
      throw new Error(`vbu2ph.toml does not say done:\n${taskFile("vbu2ph")}`);
    }
    const after = await markPickerTasks(page, "31b-mark-picker-after-close");
    log(`mark picker after closing vbu2ph: ${after.join(", ")}`);
    if (after.includes("vbu2ph")) throw new Error("the closed task is still offered for marking");
  });

  await step(page, "32-tasks-reopen", async () => {
    await runCommand(page, "Handrail: Reopen Task");
    await pickItem(page, "Reopen which task?", "vbu2ph");
    await page.waitForSelector('.notifications-toasts:has-text("task vbu2ph is open again")');
    const after = await markPickerTasks(page, "32a-mark-picker-after-reopen");
    if (!after.includes("vbu2ph")) throw new Error(`vbu2ph not offered again: ${after.join(", ")}`);
  });

  await step(page, "33-tasks-regenerate-counts-failed-first-attempt", async () => {
    const before = statsOf(tasks);
    log(`stats before: ${JSON.stringify(before)}`);
    // The HR314 quick fix on the re-opened block: a new attempt from the edited spec.
    await openFile(page, "src/wordcount.py", 21);
    const fix = await quickFix(page, "Regenerate block qqpas5.1 (discard this attempt)");
    await fix.click();
    await page.waitForSelector('.editor-instance .view-lines:has-text("handrail:begin qqpas5.2")', {
      timeout: 60_000,
    });
    await page.waitForSelector('.editor-instance .view-lines:has-text("ties broken by the later")');
    if ((await page.locator('.editor-instance .view-lines:has-text("qqpas5.1")').count()) > 0) {
      throw new Error("the discarded attempt is still in the file");
    }
    if (endpoint.requests.length !== 1) {
      throw new Error(`expected one model request, got ${endpoint.requests.length}`);
    }
    const pack = endpoint.requests[0].messages.at(-1).content;
    if (
      !pack.includes("ties by the later word") ||
      !pack.includes("replacing an earlier attempt")
    ) {
      throw new Error(`the pack is not the edited spec's new attempt:\n${pack.slice(0, 800)}`);
    }
    await page.keyboard.press("Control+S");
    await page.waitForSelector('.tab.active:not(.dirty):has-text("wordcount.py")');
    const regenerated = statsOf(tasks);
    log(`stats after regenerate: ${JSON.stringify(regenerated)}`);
    const failed = (s) => s.first_attempts - s.first_attempt_passed;
    if (failed(regenerated) !== failed(before) + 1) {
      throw new Error("the discarded attempt is not counted as a failed first attempt");
    }
    // Verified, the new attempt counts as rework.
    await openFile(page, "src/wordcount.py", 23);
    await runCommand(page, "Handrail: Verify Block");
    const panel = await problemsText(page);
    await panel
      .locator('.monaco-list-row:has-text("HR304"):has-text("qqpas5.2")')
      .first()
      .waitFor({ timeout: 120_000 });
    const verified = statsOf(tasks);
    log(`stats after verify: ${JSON.stringify(verified)}`);
    if (verified.reworked !== before.reworked + 1) {
      throw new Error(`the new attempt is not counted as rework: ${JSON.stringify(verified)}`);
    }
  });

  await step(page, "34-tasks-moved-range-offers-the-new-one", async () => {
    // A line-range entry pins the hash of its lines when the context is set.
    await runCommand(page, "Handrail: Edit Task");
    await pickItem(page, "Edit which task?", "qqpas5");
    await pickItem(page, "Edit task qqpas5: what?", "Context");
    await page.waitForSelector('.quick-input-title:has-text("Edit task qqpas5: the context")');
    await page.keyboard.press("Control+A");
    await page.keyboard.type("src/wordcount.py, tests/test_wordcount.py#L8-L9");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.notifications-toasts:has-text("task qqpas5 updated")');
    if (!/\[context_hashes\]/.test(taskFile("qqpas5"))) {
      throw new Error(`the range's lines were not pinned:\n${taskFile("qqpas5")}`);
    }
    // Two lines above them: the test moves down.
    const tests = join(tasks.workspace, "tests", "test_wordcount.py");
    writeFileSync(tests, `# Edited above the range.\n\n${readFileSync(tests, "utf8")}`);
    await page.waitForTimeout(1500); // the file watcher
    await openFile(page, ".handrail/tasks/qqpas5.toml");
    const panel = await problemsText(page);
    await panel
      .locator('.monaco-list-row:has-text("HR207"):has-text("tests/test_wordcount.py#L10-L11")')
      .first()
      .waitFor();
    await openFile(page, ".handrail/tasks/qqpas5.toml");
    const line =
      taskFile("qqpas5")
        .split("\n")
        .findIndex((l) => l.includes("#L8-L9")) + 1;
    await page.keyboard.press("Control+G");
    await page.keyboard.type(String(line));
    await page.keyboard.press("Enter");
    const fix = await quickFix(page, "Use tests/test_wordcount.py#L10-L11 (the lines moved)");
    await fix.click();
    await page.waitForSelector('.editor-instance .view-lines:has-text("#L10-L11")');
  });

  await step(page, "35-tasks-decompose-five-sentences-into-two", async () => {
    await page.keyboard.press("Escape");
    const before = new Set(taskIds(tasks.workspace));
    await runCommand(page, "Handrail: New AI Task");
    await page.waitForSelector('.quick-input-title:has-text("the spec")');
    await page.keyboard.type(FIVE_SENTENCES);
    await inputMessage(page, "Decompose into smaller tasks");
    await page.keyboard.press("Enter");
    const offer = page.locator('.notification-toast:has-text("Decompose it into sub-tasks")');
    await offer.locator('.monaco-button:has-text("Decompose")').first().click();
    for (const [index, spec] of CHILD_SPECS.entries()) {
      await page.waitForSelector(`.quick-input-title:has-text("Decompose (${index + 1}/5)")`);
      await page.keyboard.press("Control+A");
      if (spec === "") await page.keyboard.press("Backspace");
      else await page.keyboard.type(spec);
      await page.keyboard.press("Enter");
    }
    await page.waitForSelector('.quick-input-title:has-text("the files the model needs")');
    await page.keyboard.press("Enter");
    await page.waitForSelector('.notifications-toasts:has-text("created parent task")');
    const created = taskIds(tasks.workspace).filter((id) => !before.has(id));
    const parents = created.filter((id) => /decomposed = true/.test(taskFile(id)));
    const children = created.filter((id) => !parents.includes(id));
    log(`decomposed: parent ${parents.join(", ")}, children ${children.join(", ")}`);
    if (parents.length !== 1 || children.length !== 2) {
      throw new Error(`expected one parent and two children, got ${created.join(", ")}`);
    }
    for (const child of children) {
      if (!taskFile(child).includes(`parent = "${parents[0]}"`)) {
        throw new Error(`${child} is not under ${parents[0]}:\n${taskFile(child)}`);
      }
    }
  });

  await page.close();
  endpoint.close();
}

/**
 * Accepts block qqpas5.1 of the fixture as a user would (trust, verify, explain, accept): its
 * markers go, its records stay. Trust is recorded in a throwaway state folder: the session
 * itself runs nothing.
 */
function acceptBlock(workspace) {
  const state = mkdtempSync(join(tmpdir(), "handrail-e2e-accept-"));
  const env = {
    ...process.env,
    // The verification command is `python -m pytest`: the server's interpreter has pytest.
    PATH: `${dirname(HANDRAIL_SERVER)}:${process.env.PATH}`,
    XDG_STATE_HOME: join(state, "state"),
    XDG_CONFIG_HOME: join(state, "config"),
    HANDRAIL_CACHE_DIR: join(state, "cache"),
  };
  for (const args of [["trust"], ...["verify", "explain", "accept"].map((v) => [v, "qqpas5.1"])]) {
    execFileSync(HANDRAIL_SERVER, args, {
      cwd: workspace,
      env,
      input: "y\n",
      stdio: ["pipe", "ignore", "inherit"],
    });
  }
  rmSync(state, { recursive: true, force: true, maxRetries: 3 });
}

async function acceptedScenarios() {
  // Issue 12.4: accepted code (markers removed) shows a lens only with the user setting
  // `handrail.lens.acceptedCode` on; it is off by default. One session each way.
  const settings = { ...baseSettings, "security.workspace.trust.enabled": false };
  const acceptedLens = (page) =>
    page.locator('.codelens-decoration:has-text("generated · qqpas5.1 · accepted")');

  const off = await openSession("accepted-off", settings, false, { prepare: acceptBlock });
  await step(off.page, "40-accepted-lens-off-by-default", async () => {
    await openFile(off.page, "src/wordcount.py", 21);
    // The still-marked block vbu2ph.1 has its lenses: once they are drawn (one answer holds
    // all of the file's lenses), none is the accepted block's.
    await off.page.locator(".codelens-decoration").first().waitFor({ timeout: 20_000 });
    const shown = await acceptedLens(off.page).count();
    if (shown !== 0) throw new Error(`an accepted-code lens with the setting off: ${shown}`);
  });
  await off.page.close();

  const on = await openSession(
    "accepted-on",
    { ...settings, "handrail.lens.acceptedCode": true },
    false,
    { prepare: acceptBlock },
  );
  await step(on.page, "41-accepted-lens-on-shows-the-block", async () => {
    await openFile(on.page, "src/wordcount.py", 21);
    const lens = acceptedLens(on.page).first();
    await lens.waitFor({ timeout: 20_000 });
    log(`accepted lens: ${await lens.innerText()}`);
  });
  await on.page.close();
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
  if (runs("trusted")) {
    // Trusted: Workspace Trust turned off means every folder is trusted.
    const { server: trusted, page } = await openSession(
      "trusted",
      {
        ...baseSettings,
        "security.workspace.trust.enabled": false,
      },
      true,
    );

    await step(page, "01-hr300-squiggle", async () => {
      await openFile(page, "src/wordcount.py", 21);
      await page.waitForSelector(".view-overlays .squiggly-error");
      const panel = await problemsText(page);
      await panel.locator('.monaco-list-row:has-text("HR300")').first().waitFor();
      await panel.locator('.monaco-list-row:has-text("qqpas5.1")').first().waitFor();
    });

    await step(page, "01b-lens-a-few-words", async () => {
      // Issue 19.6: the state in a word, then the next steps, on the begin marker.
      await page.keyboard.press("Escape");
      await openFile(page, "src/wordcount.py", 21);
      const lens = page.locator('.codelens-decoration:has-text("Verify")');
      await lens.first().waitFor({ timeout: 20_000 });
      const text = await lens.first().innerText();
      log(`lens: ${text}`);
      if (!/unverified/.test(text)) throw new Error(`unexpected lens: ${text}`);
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
      // Refused past the hard limit: instead of a task, the offer to decompose it (issue 13).
      await page
        .locator('.notification-toast:has-text("Decompose it into sub-tasks")')
        .first()
        .waitFor();
      // Not now: the offer is dismissed and nothing is created.
      await runCommand(page, "Notifications: Clear All Notifications");
      const tasks = taskIds(trusted.workspace);
      if (tasks.length !== 2) {
        throw new Error(`a refused spec created a task: ${tasks.join(", ")}`);
      }
    });

    await step(page, "04-new-task-accepts-two-sentences", async () => {
      await runCommand(page, "Handrail: New AI Task");
      await page.waitForSelector('.quick-input-title:has-text("the spec")');
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
        .locator(
          '.quick-input-list .monaco-list-row:has-text("src/wordcount.py"):has-text("tokens")',
        )
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
      await panel
        .locator('.monaco-list-row:has-text("HR304")')
        .first()
        .waitFor({ timeout: 120_000 });
      // The panel may list the old and the new diagnostics together for a moment.
      await panel
        .locator('.monaco-list-row:has-text("HR300")')
        .first()
        .waitFor({ state: "detached", timeout: 10_000 })
        .catch(() => {
          throw new Error("HR300 is still listed in the Problems panel after verification");
        });
      // Counted by its real state: verified, it now needs its explanation (HR304).
      await page.waitForSelector('.statusbar-item:has-text("1 needs explanation")');
    });

    await step(page, "07b-empty-selection-asks-for-one", async () => {
      // Issue 19.7: with nothing selected, Mark Selection wrapped a blank line and recorded it.
      const before = ledgerFiles(trusted.workspace).length;
      const source = readFileSync(join(trusted.workspace, "src", "wordcount.py"), "utf8");
      await openFile(page, "src/wordcount.py", 19);
      await runCommand(page, "Handrail: Mark Selection as Generated");
      await page.waitForSelector(
        '.notifications-toasts:has-text("Select the generated lines first")',
      );
      await page.waitForTimeout(1000);
      if (ledgerFiles(trusted.workspace).length !== before) {
        throw new Error("an empty selection was recorded in the ledger");
      }
      if ((await page.locator(".tab.active.dirty").count()) > 0) {
        throw new Error("an empty selection edited the file");
      }
      if (readFileSync(join(trusted.workspace, "src", "wordcount.py"), "utf8") !== source) {
        throw new Error("an empty selection changed the file");
      }
    });

    await step(page, "07c-failed-block-counts-as-failing", async () => {
      // Issue 19.1: with a failed block on screen the status bar read "0 unverified".
      const path = join(trusted.workspace, "src", "wordcount.py");
      const broken = readFileSync(path, "utf8").replace(
        "    return max(candidates, key=lambda word: (len(word), word))",
        "    return min(candidates, key=lambda word: (len(word), word))",
      );
      writeFileSync(path, broken);
      await page.keyboard.press("Escape");
      await openFile(page, "src/wordcount.py", 23);
      await page.waitForTimeout(1500); // the editor reloads the file from disk
      await runCommand(page, "Handrail: Verify Block");
      const toast = page.locator('.notifications-toasts:has-text("Show Output")');
      await toast.first().waitFor({ timeout: 120_000 });
      await page.waitForSelector('.statusbar-item:has-text("1 failing")', { timeout: 30_000 });
      const text = await page.locator('.statusbar-item:has-text("failing")').first().innerText();
      log(`status bar: ${text}`);
      if (/0 unverified/.test(text)) throw new Error(`the status bar still lies: ${text}`);
      // The output is one click away: the command, where it points, the first failure.
      await toast
        .locator('a.monaco-button:has-text("Show Output"), .monaco-button:has-text("Show Output")')
        .first()
        .click();
      await page.waitForSelector('.view-lines:has-text("Points at: code")', { timeout: 15_000 });
    });

    await step(page, "07d-block-list-names-the-failure", async () => {
      await runCommand(page, "Handrail: Show Blocks That Need Work");
      await page.waitForSelector('.quick-input-widget:has-text("1 failing")');
      if (
        (await page
          .locator('.notifications-toasts:has-text("every generated block is verified")')
          .count()) > 0
      ) {
        throw new Error("the summary said every block is verified with a failing block");
      }
      await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("qqpas5.1")');
      await page.keyboard.press("Escape");
    });

    await step(page, "07e-trust-message-lists-the-commands-and-approves", async () => {
      // Issue 19.4: a command this machine has not approved (the task's own `verify`) is
      // asked for in one message that lists it, with a button that records the approval
      // (as `handrail trust` does) and runs it.
      const command = "python -m pytest -q -p no:cacheprovider";
      const taskFile = join(trusted.workspace, ".handrail", "tasks", "qqpas5.toml");
      writeFileSync(taskFile, `${readFileSync(taskFile, "utf8")}verify = "${command}"\n`);
      await page.keyboard.press("Escape");
      await runCommand(page, "Notifications: Clear All Notifications");
      await openFile(page, "src/wordcount.py", 23);
      await page.waitForTimeout(1500); // the server reloads the task file it watches
      await runCommand(page, "Handrail: Verify Block");
      const ask = page.locator('.notification-toast:has-text("not yet approved on this machine")');
      await ask.first().waitFor({ timeout: 60_000 });
      const text = await ask.first().innerText();
      log(`trust message: ${text.replace(/\s+/g, " ")}`);
      if (!text.includes(command) || !text.includes("qqpas5")) {
        throw new Error(`the message does not list the task's command: ${text}`);
      }
      await page.waitForTimeout(500); // the toast slides in
      await page.screenshot({ path: join(ARTIFACTS, "07e-trust-message.png") });
      await ask.locator('.monaco-button:has-text("Approve and Verify")').first().click();
      // Approved, the command runs: the block is still broken (07c), so the run fails and
      // its output is offered.
      await page
        .locator('.notifications-toasts:has-text("Show Output")')
        .first()
        .waitFor({ timeout: 120_000 });
      const shown = execFileSync(HANDRAIL_SERVER, ["trust", "--show"], {
        cwd: trusted.workspace,
        env: { ...process.env, HOME: trusted.home, XDG_STATE_HOME: join(trusted.home, "state") },
        encoding: "utf8",
      });
      log(`handrail trust --show: ${shown.replace(/\s+/g, " ")}`);
      const approved = shown
        .split("\n")
        .some((line) => /^trusted\s/.test(line.trim()) && line.includes(`${command} `));
      if (!approved) {
        throw new Error(`the approval was not recorded as handrail trust records it:\n${shown}`);
      }
    });
    await page.close();
  }

  if (runs("untrusted")) {
    // Untrusted: Workspace Trust on, the folder never trusted, no start-up prompt.
    const { server: untrusted, page: restricted } = await openSession("untrusted", {
      ...baseSettings,
      "security.workspace.trust.enabled": true,
      "security.workspace.trust.startupPrompt": "never",
      "security.workspace.trust.banner": "always",
    });
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
        throw new Error(
          `the ledger changed in Restricted Mode: ${before.length} -> ${after.length}`,
        );
      }
      await restricted.waitForSelector(".view-overlays .squiggly-error");
    });
  }

  if (runs("hostile")) {
    await hostileScenarios();
  }

  if (runs("chat")) {
    await chatScenarios();
  }

  if (runs("tasks")) {
    await taskScenarios();
  }

  if (runs("accepted")) {
    await acceptedScenarios();
  }
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

// Test-only extension for Handrail's end-to-end test (client-vscode/e2e/run.mjs).
// - A language model that answers every request with the same fenced code and appends one JSON
//   line per request to $HOME/fake-model-requests.jsonl, so the test can prove what was (or was
//   not) sent.
// - "Handrail E2E: Invoke Handrail Tools": agent mode needs Copilot (it asks to sign in), so the
//   test calls Handrail's language model tools the way an agent does, through vscode.lm.invokeTool,
//   with the calls listed in $HOME/tool-calls.json; the results go to $HOME/tool-results.jsonl.
"use strict";
const vscode = require("vscode");
const { appendFileSync, readFileSync } = require("node:fs");
const { homedir } = require("node:os");
const { join } = require("node:path");

const LOG = join(homedir(), "fake-model-requests.jsonl");
const TOOL_CALLS = join(homedir(), "tool-calls.json");
const TOOL_RESULTS = join(homedir(), "tool-results.jsonl");

const ANSWER = [
  "Here is the function, following the pattern of `top_words()`:",
  "",
  "```python",
  "def shortest_word(text: str) -> str | None:",
  '    """The shortest word of `text`, ties broken alphabetically; None without words."""',
  "    found = words(text)",
  "    if not found:",
  "        return None",
  "    return min(found, key=lambda word: (len(word), word))",
  "```",
  "",
  "It returns None for a text without words.",
].join("\n");

const MODEL = {
  id: "fixed-code",
  name: "Fixed Code",
  family: "handrail-fake",
  version: "1.0.0",
  tooltip: "Handrail's test model: always answers with the same code.",
  detail: "e2e",
  maxInputTokens: 128000,
  maxOutputTokens: 4096,
  // Agent mode, the chat view's default, lists only models that can call tools.
  capabilities: { toolCalling: true, imageInput: false },
};

function textOf(message) {
  return message.content
    .map((part) => {
      if (part instanceof vscode.LanguageModelTextPart) return part.value;
      if (part instanceof vscode.LanguageModelToolResultPart) {
        const inner = part.content
          .map((item) => (item instanceof vscode.LanguageModelTextPart ? item.value : ""))
          .join("");
        return `[tool result ${part.callId}] ${inner}`;
      }
      if (part instanceof vscode.LanguageModelToolCallPart) {
        return `[tool call ${part.name}] ${JSON.stringify(part.input)}`;
      }
      return "";
    })
    .join("");
}

async function invokeTools() {
  const calls = JSON.parse(readFileSync(TOOL_CALLS, "utf8"));
  const registered = vscode.lm.tools.filter((tool) => tool.name.startsWith("handrail_"));
  appendFileSync(
    TOOL_RESULTS,
    JSON.stringify({
      registered: registered.map(({ name, inputSchema }) => ({ name, inputSchema })),
    }) + "\n",
  );
  for (const call of calls) {
    let record;
    try {
      const result = await vscode.lm.invokeTool(call.name, {
        input: call.input,
        toolInvocationToken: undefined,
      });
      const text = result.content
        .map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : ""))
        .join("\n");
      record = { name: call.name, ok: true, text };
    } catch (error) {
      record = { name: call.name, ok: false, error: String(error) };
    }
    appendFileSync(TOOL_RESULTS, JSON.stringify(record) + "\n");
  }
  void vscode.window.showInformationMessage(`Handrail E2E: invoked ${calls.length} tool(s).`);
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("handrailE2e.invokeTools", invokeTools),
  );
  context.subscriptions.push(
    vscode.lm.registerLanguageModelChatProvider("handrail-fake", {
      provideLanguageModelChatInformation() {
        return [MODEL];
      },
      async provideLanguageModelChatResponse(model, messages, options, progress, token) {
        appendFileSync(
          LOG,
          JSON.stringify({
            at: new Date().toISOString(),
            model: model.id,
            modelOptions: options.modelOptions ?? null,
            tools: (options.tools ?? []).map((tool) => tool.name),
            messages: messages.map((message) => ({ role: message.role, text: textOf(message) })),
          }) + "\n",
        );
        // Streamed in pieces, as a real model does.
        for (const piece of ANSWER.match(/[\s\S]{1,40}/g)) {
          if (token.isCancellationRequested) return;
          progress.report(new vscode.LanguageModelTextPart(piece));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      async provideTokenCount(_model, text) {
        const value = typeof text === "string" ? text : textOf(text);
        return Math.ceil(value.length / 4);
      },
    }),
  );
  // The workbench resolves a vendor's models lazily; asking for them once makes the model
  // picker list this one without a Copilot sign-in.
  void vscode.lm.selectChatModels({ vendor: "handrail-fake" });
}

module.exports = { activate, deactivate() {} };

import assert from "node:assert/strict";
import { test } from "node:test";
import { NOTE_USAGE, needsSentence, noteFromPrompt, withSentence } from "../src/logic/note";

test("/note: verdict, optional code, the sentence", () => {
  assert.deepEqual(noteFromPrompt("in-the-way hr201 the cap made me split a fix"), {
    verdict: "in-the-way",
    code: "HR201",
    text: "the cap made me split a fix",
    source: "chat",
  });
  assert.deepEqual(noteFromPrompt("  helped   caught a stale test "), {
    verdict: "helped",
    text: "caught a stale test",
    source: "chat",
  });
  assert.deepEqual(noteFromPrompt("in_the_way"), {
    verdict: "in-the-way",
    text: "",
    source: "chat",
  });
});

test("/note without a verdict, or too long, answers with the reason", () => {
  assert.equal(noteFromPrompt(""), NOTE_USAGE);
  assert.equal(noteFromPrompt("HR201 something"), NOTE_USAGE);
  const tooLong = noteFromPrompt(`helped ${"x".repeat(501)}`);
  assert.equal(typeof tooLong, "string");
  assert.match(tooLong as string, /at most 500 characters/);
});

test("a code action's note gets the sentence; other commands are left alone", () => {
  const args = [{ verdict: "helped", code: "HR305", uri: "file:///a.py", line: 2 }];
  assert.ok(needsSentence("handrail.note", args));
  assert.ok(!needsSentence("handrail.review", args));
  assert.ok(!needsSentence("handrail.note", [{ ...args[0], text: "" }]));
  assert.deepEqual(withSentence(args, "  one\nkeystroke  "), [
    { ...args[0], text: "one keystroke" },
  ]);
  assert.deepEqual(withSentence(args, ""), [{ ...args[0], text: "" }]);
});

// Syntax-checks LogQL and TraceQL with Grafana's own Lezer grammars (the ones Grafana's editors use).
// Input on stdin: a JSON array of {"language": "logql" | "traceql", "query": "..."}.
// Output on stdout: a JSON array, one {"ok": bool, "position": int, "message": str} per input.
// Lezer recovers from syntax errors by inserting error nodes, so "invalid" means "the tree holds one".
import { readFileSync } from "node:fs";
import { parser as logqlParser } from "@grafana/lezer-logql";
import { parser as traceqlParser } from "@grafana/lezer-traceql";

const PARSERS = { logql: logqlParser, traceql: traceqlParser };

function lineAndColumn(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function check({ language, query }) {
  const parser = PARSERS[language];
  if (!parser) {
    return { ok: false, position: 0, message: `unknown query language ${language}` };
  }
  if (query.trim() === "") {
    return { ok: false, position: 0, message: "empty query" };
  }
  let firstError = null;
  parser.parse(query).iterate({
    enter(node) {
      if (firstError === null && node.type.isError) {
        firstError = node.from;
      }
      return firstError === null;
    },
  });
  if (firstError === null) {
    return { ok: true, position: -1, message: "" };
  }
  const near = query.slice(firstError, firstError + 20) || "<end of query>";
  return {
    ok: false,
    position: firstError,
    message: `${language} syntax error at ${lineAndColumn(query, firstError)} near "${near}"`,
  };
}

const requests = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(requests.map(check)));

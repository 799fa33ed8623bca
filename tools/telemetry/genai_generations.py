"""What an app on another generation of the GenAI conventions records for one request.

Apps on the 2025 conventions (v1.37 with OpenLIT's cost: `AppProcess.conventions == "v1.37"`) are
recorded by storage.py and otlp.py directly. For the others one function gives every recording as
the app's SDK makes it (instrument, OTel attributes, value), and both the OTLP sender and the stored
series read it, so the two cannot drift apart:

- "2026": semantic-conventions-genai after 2026-09: a counter per token category, cached input
  and reasoning output as subsets; `gen_ai.client.inference.duration`; agent and tool metrics.
- "agento11y": Grafana's agento11y SDK: `gen_ai.client.token.usage` with cache and reasoning token
  types, `gen_ai.client.operation.duration`, time to first token, tool calls per generation.
- "v1.36": OpenLIT on conventions before v1.37: `gen_ai.system` where later ones say
  `gen_ai.provider.name`, its cost histogram and the server-side time to first token.
"""

from tools.telemetry import catalog
from tools.telemetry.catalog import Instrument
from tools.telemetry.events import AppRequest

Attributes = dict[str, str | int]
Recording = tuple[Instrument, Attributes, float]

GENERATIONS = ("2026", "agento11y", "v1.36")
TOOL_NAMES = ("web_search", "fetch_page", "run_sql")


def genai_attributes(request: AppRequest) -> Attributes:
    llm = request.llm
    provider = (
        catalog.LEGACY_PROVIDER_ATTRIBUTE
        if request.process.conventions == "v1.36"
        else "gen_ai.provider.name"
    )
    return {
        "gen_ai.operation.name": llm.operation,
        provider: llm.provider,
        "gen_ai.request.model": llm.model,
        "gen_ai.response.model": llm.model,
    }


def http_attributes(request: AppRequest) -> Attributes:
    attributes: Attributes = {
        "http.request.method": request.method,
        "http.route": request.route,
        "http.response.status_code": request.status_code,
        "url.scheme": "http",
    }
    if request.status_code >= 500:
        attributes["error.type"] = str(request.status_code)
    return attributes


def _inference_usage(request: AppRequest) -> list[Recording]:
    llm, genai = request.llm, {**genai_attributes(request), "gen_ai.token.modality": "text"}
    cached = llm.cache_read_tokens + llm.cache_write_tokens
    return [
        (catalog.GENAI_INFERENCE_INPUT, genai, float(llm.input_tokens + cached)),
        (catalog.GENAI_INFERENCE_OUTPUT, genai, float(llm.output_tokens)),
        (catalog.GENAI_INFERENCE_CACHE_READ, genai, float(llm.cache_read_tokens)),
        (catalog.GENAI_INFERENCE_CACHE_WRITE, genai, float(llm.cache_write_tokens)),
        (catalog.GENAI_INFERENCE_REASONING, genai, float(llm.reasoning_tokens)),
    ]


def _agent(request: AppRequest) -> list[Recording]:
    llm = request.llm
    error: Attributes = {"error.type": llm.error_type} if llm.error_type else {}
    invoke: Attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": llm.provider,
        "gen_ai.request.model": llm.model,
        "gen_ai.agent.name": llm.agent,
        **error,
    }
    tools = [
        (
            catalog.GENAI_EXECUTE_TOOL_DURATION,
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": TOOL_NAMES[i % 3]},
            duration,
        )
        for i, duration in enumerate(llm.tool_durations)
    ]
    return [(catalog.GENAI_INVOKE_AGENT_DURATION, invoke, llm.duration), *tools]


def _token_usage(request: AppRequest, types: tuple[str, ...]) -> list[Recording]:
    llm, genai = request.llm, genai_attributes(request)
    amounts = {
        "input": llm.input_tokens,
        "output": llm.output_tokens,
        "cache_read": llm.cache_read_tokens,
        "cache_write": llm.cache_write_tokens,
        "reasoning": llm.reasoning_tokens,
    }
    return [
        (catalog.GENAI_TOKEN_USAGE, {**genai, "gen_ai.token.type": kind}, float(amounts[kind]))
        for kind in types
    ]


def recordings(request: AppRequest) -> list[Recording]:
    """Every recording the request's app makes, in the order its SDK would make them."""
    llm, conventions = request.llm, request.process.conventions
    if conventions not in GENERATIONS:
        raise ValueError(f"not an app on another generation: {conventions}")
    genai = genai_attributes(request)
    error: Attributes = {"error.type": llm.error_type} if llm.error_type else {}
    ok = not llm.error_type
    found: list[Recording] = []
    if conventions == "2026":
        if ok:
            found += _inference_usage(request)
        found.append((catalog.GENAI_INFERENCE_DURATION, {**genai, **error}, llm.duration))
        found += _agent(request)
    elif conventions == "agento11y":
        if ok:
            types = ("input", "output", "cache_read", "cache_write", "reasoning")
            found += _token_usage(request, types)
            found.append((catalog.GENAI_CLIENT_TTFT, genai, llm.time_to_first_token))
            found.append((catalog.GENAI_TOOL_CALLS, genai, float(len(llm.tool_durations))))
        found.append((catalog.GENAI_OPERATION_DURATION, {**genai, **error}, llm.duration))
    else:
        if ok:
            found += _token_usage(request, ("input", "output"))
            found.append((catalog.GENAI_USAGE_COST, genai, llm.cost_usd))
            server_ttft = {
                key: genai[key]
                for key in ("gen_ai.operation.name", catalog.LEGACY_PROVIDER_ATTRIBUTE)
            }
            server_ttft["gen_ai.request.model"] = llm.model
            found.append((catalog.GENAI_SERVER_TTFT, server_ttft, llm.time_to_first_token))
        found.append((catalog.GENAI_OPERATION_DURATION, {**genai, **error}, llm.duration))
    found.append((catalog.HTTP_SERVER_DURATION, http_attributes(request), request.duration))
    return found

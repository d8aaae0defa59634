/**
 * Engram's HTTP endpoints (COMPAT.md, "Engram's HTTP API") over the in-memory store: request
 * validation with Engram's codes and messages, the store call, and Engram's response shapes.
 * Transport concerns (timing, knobs, recording, metrics counting) live in server.ts.
 * @module
 */
import { ApiError, invalid } from "./api_error.ts";
import { completePattern } from "./complete.ts";
import {
  type JsonObject,
  parseJsonObject,
  readBoolean,
  readContent,
  readEmbedding,
  readEmbeddingParam,
  readNumber,
  readNumberParam,
  readObject,
  readPartialEmbedding,
  readString,
  readStringArray,
  readTimestamp,
  resolveSpace,
  SPACE_HEADER,
} from "./request.ts";
import type { MemoryInput, MemoryRecord, MemorySpace, MemoryStore, ScoredMemory } from "./store.ts";
import { systemHealth } from "./system_health.ts";

/** Version string `GET /health` reports. */
export const REFERENCE_VERSION = "0.1.0-reference";
/** Recall modes Engram accepts. */
export const RECALL_MODES = ["similarity", "spreading", "hybrid"] as const;
/** One recall mode. */
export type RecallMode = typeof RECALL_MODES[number];

/** Memories above this score are "vivid" (Engram's split); the rest are "associated". */
const VIVID_ABOVE = 0.7;
/** Hops spreading activation takes from the direct matches. */
const SPREAD_HOPS = 2;

/** One parsed request as handlers see it. */
export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Map<string, string>;
  headers: Headers;
  /** Raw body text ("" for none). */
  body: string;
}

/** A handler's answer: status and JSON body text (null: no body). */
export interface Reply {
  status: number;
  body: string | null;
}

/** What the endpoints need from the server around them. */
export interface ApiContext {
  store: MemoryStore;
  dim: number;
  /** False: recall modes spreading and hybrid are refused (a server without M17). */
  spreading: boolean;
  /** JSON-ready snapshot for `GET /metrics`. */
  metrics: () => unknown;
}

/** One endpoint: the handler and whether fault/delay knobs apply to it. */
export interface Route {
  method: "GET" | "POST";
  path: string;
  /** Health and metrics stay clean so that a run's health check is not a coin toss. */
  injectable: boolean;
  handle: (req: ApiRequest) => Reply;
}

/** The endpoint table of the reference server. */
export function engramRoutes(ctx: ApiContext): Route[] {
  return [
    { method: "GET", path: "/health", injectable: false, handle: health },
    { method: "GET", path: "/health/alive", injectable: false, handle: () => reply(200, null) },
    {
      method: "GET",
      path: "/api/v1/system/health",
      injectable: false,
      handle: () => reply(200, systemHealth(ctx.store)),
    },
    {
      method: "GET",
      path: "/metrics",
      injectable: false,
      handle: () => reply(200, ctx.metrics()),
    },
    {
      method: "POST",
      path: "/api/v1/memories",
      injectable: true,
      handle: (r) => rememberSimple(ctx, r),
    },
    {
      method: "POST",
      path: "/api/v1/memories/remember",
      injectable: true,
      handle: (r) => rememberMemory(ctx, r),
    },
    {
      method: "POST",
      path: "/api/v1/episodes/remember",
      injectable: true,
      handle: (r) => rememberEpisode(ctx, r),
    },
    {
      method: "GET",
      path: "/api/v1/memories/recall",
      injectable: true,
      handle: (r) => recall(ctx, r),
    },
    {
      method: "GET",
      path: "/api/v1/memories/search",
      injectable: true,
      handle: (r) => search(ctx, r),
    },
    { method: "POST", path: "/api/v1/complete", injectable: true, handle: (r) => complete(ctx, r) },
  ];
}

function reply(status: number, value: unknown): Reply {
  return { status, body: value === null ? null : JSON.stringify(value) };
}

function health(): Reply {
  return reply(200, {
    status: "healthy",
    service: "engram",
    version: REFERENCE_VERSION,
    timestamp: new Date().toISOString(),
  });
}

function spaceOf(req: ApiRequest, body: JsonObject | null): string {
  return resolveSpace(req.headers.get(SPACE_HEADER), req.query.get("space"), body);
}

// ---------------------------------------------------------------------------------------------
// Storing

function rememberSimple(ctx: ApiContext, req: ApiRequest): Reply {
  const body = parseJsonObject(req.body);
  const input: MemoryInput = {
    kind: "memory",
    content: readContent(body.content, "content"),
    confidence: readNumber(body.confidence, "confidence", 0.7, 0, 1),
    embedding: null, // Engram's simple form ignores any embedding
    tags: [],
    memoryType: "semantic",
    observedAt: new Date().toISOString(),
    autoLink: false,
    linkThreshold: 1,
  };
  return stored(ctx, spaceOf(req, body), input, "Default confidence for user-provided memory");
}

function rememberMemory(ctx: ApiContext, req: ApiRequest): Reply {
  const body = parseJsonObject(req.body);
  const space = spaceOf(req, body);
  const content = readContent(body.content, "content");
  const embedding = body.embedding === undefined || body.embedding === null
    ? null
    : readEmbedding(body.embedding, ctx.dim, "embedding");
  const timestamp = body.timestamp === undefined || body.timestamp === null
    ? new Date().toISOString()
    : readTimestamp(body.timestamp, "timestamp");
  const memoryType = readString(body.memory_type, "memory_type") ?? "semantic";
  const input: MemoryInput = {
    kind: "memory",
    id: readString(body.id, "id") ?? undefined,
    content,
    confidence: readNumber(body.confidence, "confidence", 0.7, 0, 1),
    embedding,
    tags: readStringArray(body.tags, "tags") ?? [],
    memoryType: ["episodic", "procedural"].includes(memoryType) ? memoryType : "semantic",
    observedAt: timestamp,
    autoLink: readBoolean(body.auto_link, "auto_link", true),
    linkThreshold: readNumber(body.link_threshold, "link_threshold", 0.7, 0, 1),
  };
  const reasoning = readString(body.confidence_reasoning, "confidence_reasoning") ??
    "Default confidence for user-provided memory";
  return stored(ctx, space, input, reasoning);
}

function rememberEpisode(ctx: ApiContext, req: ApiRequest): Reply {
  const body = parseJsonObject(req.body);
  const space = spaceOf(req, body);
  const when = readTimestamp(body.when, "when");
  const what = readContent(body.what, "what");
  const whereLocation = readString(body.where_location, "where_location");
  const who = readStringArray(body.who, "who");
  const why = readString(body.why, "why");
  const how = readString(body.how, "how");
  const importance = readNumber(body.importance, "importance", 0.5, 0, 1);
  const input: MemoryInput = {
    kind: "episode",
    id: readString(body.id, "id") ?? undefined,
    content: what,
    searchText: [whereLocation, ...(who ?? []), why, how].filter((s) => s).join(" "),
    confidence: importance,
    embedding: body.embedding === undefined || body.embedding === null
      ? null
      : readEmbedding(body.embedding, ctx.dim, "embedding"),
    tags: [],
    memoryType: "episodic",
    observedAt: when,
    episode: {
      when,
      whereLocation,
      who,
      why,
      how,
      emotionalValence: readNumber(body.emotional_valence, "emotional_valence", 0, -1, 1),
    },
    autoLink: readBoolean(body.auto_link, "auto_link", true),
    linkThreshold: readNumber(body.link_threshold, "link_threshold", 0.7, 0, 1),
  };
  return stored(
    ctx,
    space,
    input,
    `Episodic memory stored with importance ${importance.toFixed(2)}`,
  );
}

function stored(ctx: ApiContext, space: string, input: MemoryInput, reasoning: string): Reply {
  const { id, links } = ctx.store.remember(space, input);
  return reply(201, {
    memory_id: id,
    storage_confidence: confidenceInfo(input.confidence, reasoning),
    consolidation_state: "Recent",
    observed_at: input.observedAt,
    stored_at: new Date().toISOString(),
    auto_links: links.map((l) => ({
      target_memory_id: l.id,
      similarity_score: round(l.similarity),
      link_reason: "Embedding similarity above link threshold",
    })),
    system_message: `Memory '${id}' stored in space '${space}'` +
      (links.length > 0 ? ` and linked to ${links.length} similar memories.` : "."),
  });
}

// ---------------------------------------------------------------------------------------------
// Recall and search

/** Reads `mode`, refusing spreading modes on a server without them (Engram's 400). */
function readMode(text: string | undefined, spreading: boolean): RecallMode {
  const mode = (text ?? "similarity").trim().toLowerCase();
  if (!(RECALL_MODES as readonly string[]).includes(mode)) {
    throw invalid(`Unsupported recall mode '${mode}'. Use one of: similarity, spreading, hybrid.`);
  }
  if (mode !== "similarity" && !spreading) {
    throw invalid(
      `mode '${mode}' requires spreading activation, which is disabled on this server ` +
        "(started with --no-spreading); use mode=similarity",
    );
  }
  return mode as RecallMode;
}

function recall(ctx: ApiContext, req: ApiRequest): Reply {
  const q = req.query;
  const spaceId = spaceOf(req, null);
  const mode = readMode(q.get("mode"), ctx.spreading);
  const threshold = readNumberParam(q.get("threshold"), "threshold", 0.5, 0, 1);
  const maxResults = readNumberParam(q.get("max_results"), "max_results", 10, 0, 10_000, true);
  const text = q.get("query");
  const embeddingText = q.get("embedding");
  if (text === undefined && embeddingText === undefined) {
    throw invalid(
      "Recall requires either a text query or embedding vector: what are you trying to remember?",
    );
  }
  const embedding = embeddingText === undefined ? null : readEmbeddingParam(embeddingText, ctx.dim);
  const space = ctx.store.existing(spaceId);
  // Engram uses the text cue when both are given.
  const direct = !space || maxResults === 0
    ? []
    : (text !== undefined
      ? space.matchText(text, maxResults).hits
      : space.nearest(embedding!, maxResults)).filter((h) => h.score >= threshold);

  type Found = ScoredMemory & { activation: number; path: string };
  const asFound = (h: ScoredMemory): Found => ({ ...h, activation: h.score, path: "Direct match" });
  let vivid: Found[] = direct.filter((h) => h.score > VIVID_ABOVE).map(asFound);
  let associated: Found[] = direct.filter((h) => h.score <= VIVID_ABOVE).map(asFound);
  if (mode !== "similarity" && space) {
    const spread = space.spread(direct, SPREAD_HOPS, maxResults).map((a): Found => ({
      memory: a.memory,
      activation: a.score,
      score: embedding && text === undefined ? space.similarity(embedding, a.memory) : a.score,
      path: "Spreading activation",
    }));
    if (mode === "hybrid") spread.sort((x, y) => y.score + y.activation - (x.score + x.activation));
    associated = associated.concat(spread);
  }
  vivid = vivid.slice(0, maxResults);
  associated = associated.slice(0, maxResults - vivid.length);
  const item = (h: Found) => memoryResult(space!.record(h.memory), h.score, h.activation, h.path);
  const top = direct.length > 0 ? direct[0].score : 0;
  return reply(200, {
    memories: {
      vivid: vivid.map(item),
      associated: associated.map(item),
      reconstructed: [],
    },
    recall_confidence: confidenceInfo(top, MODE_REASONING[mode]),
    query_analysis: {
      understood_intent: text ?? "Embedding-based recall request",
      search_strategy: mode === "similarity"
        ? (text !== undefined
          ? "Similarity-first recall using lexical cues"
          : "Vector similarity with contextual dilation")
        : mode === "spreading"
        ? "Spreading activation across cognitive graph"
        : "Hybrid recall blending similarity and spreading",
      cognitive_load: maxResults > 20 ? "Medium" : "Low",
      suggestions: [],
    },
    system_message:
      `Recall found ${vivid.length} vivid and ${associated.length} associated memories.`,
  });
}

const MODE_REASONING: Record<RecallMode, string> = {
  similarity: "Similarity recall emphasised lexical and embedding cues",
  spreading: "Spreading activation traversed associative edges to surface candidates",
  hybrid: "Hybrid recall blended similarity scoring with spreading activation",
};

function search(ctx: ApiContext, req: ApiRequest): Reply {
  const text = req.query.get("query");
  if (text === undefined || text.trim() === "") throw invalid("search requires a non-empty query");
  const limit = readNumberParam(req.query.get("limit"), "limit", 10, 0, 10_000, true);
  const space = ctx.store.existing(spaceOf(req, null));
  const found = space ? space.matchText(text, limit) : { hits: [], total: 0 };
  return reply(200, {
    memories: found.hits.map((h) =>
      memoryResult(space!.record(h.memory), h.score, h.score, "Text match")
    ),
    total: found.total,
  });
}

function memoryResult(m: MemoryRecord, similarity: number, activation: number, path: string) {
  return {
    id: m.id,
    content: m.content,
    confidence: confidenceInfo(m.confidence, "Stored confidence of this memory"),
    activation_level: round(activation),
    similarity_score: round(similarity),
    retrieval_path: path,
    observed_at: m.observedAt,
    tags: m.tags,
    memory_type: m.memoryType,
  };
}

// ---------------------------------------------------------------------------------------------
// Pattern completion

function complete(ctx: ApiContext, req: ApiRequest): Reply {
  const body = parseJsonObject(req.body);
  const spaceId = spaceOf(req, body);
  const partial = readObject(body.partial_episode, "partial_episode");
  if (!partial) throw invalid("partial_episode is required");
  const knownFields = readObject(partial.known_fields, "partial_episode.known_fields") ?? {};
  for (const [k, v] of Object.entries(knownFields)) {
    if (typeof v !== "string") throw invalid(`partial_episode.known_fields.${k} must be a string`);
  }
  const cue = readPartialEmbedding(partial.partial_embedding, ctx.dim);
  const cueStrength = partial.cue_strength ?? 0.7;
  if (typeof cueStrength !== "number" || !(cueStrength >= 0 && cueStrength <= 1)) {
    throw new ApiError(
      "MEMORY_VALIDATION_ERROR",
      `Cue strength must be between 0.0 and 1.0, got ${JSON.stringify(cueStrength)}`,
    );
  }
  readStringArray(partial.temporal_context, "partial_episode.temporal_context");
  const emptyEmbedding = partial.partial_embedding === undefined ||
    partial.partial_embedding === null ||
    (Array.isArray(partial.partial_embedding) && partial.partial_embedding.length === 0);
  if (Object.keys(knownFields).length === 0 && emptyEmbedding) {
    throw new ApiError(
      "MEMORY_VALIDATION_ERROR",
      "Pattern completion requires at least some known fields or partial embedding.",
    );
  }
  const config = readObject(body.config, "config") ?? {};
  const ca1Threshold = readNumber(config.ca1_threshold, "config.ca1_threshold", 0.7, 0, 1);
  const numHypotheses = readNumber(config.num_hypotheses, "config.num_hypotheses", 3, 1, 100);
  readNumber(config.max_iterations, "config.max_iterations", 7, 0, 1000);

  const space = ctx.store.existing(spaceId);
  const done = completePattern(space, cue, ctx.dim, {
    ca1Threshold,
    numHypotheses: Math.floor(numHypotheses),
  });
  const fields = knownFields as Record<string, string>;
  const episodeOf = (s: ScoredMemory) => completedEpisode(space!, s, fields);
  const best = done.sources[0];
  const attribution = (field: string, known: boolean) => [
    field,
    { source: known ? "recalled" : "reconstructed", confidence: round(known ? 1 : best.score) },
  ];
  const response: Record<string, unknown> = {
    completed_episode: episodeOf(best),
    completion_confidence: completionConfidence(best.score, "CA1 output confidence"),
    source_attribution: Object.fromEntries([
      attribution("what", "what" in fields),
      attribution("where_location", "where" in fields || "where_location" in fields),
      attribution("who", "who" in fields),
      attribution("embedding", done.overlap === 1),
    ]),
    alternative_hypotheses: done.sources.slice(1).map((s) => ({
      episode: episodeOf(s),
      confidence: round(s.score),
    })),
    metacognitive_confidence: completionConfidence(
      best.score * done.overlap,
      "System 2 metacognitive monitoring",
    ),
    reconstruction_stats: {
      ca3_iterations: 1,
      convergence_achieved: true,
      pattern_sources: done.sources.map((s) => space!.record(s.memory).id),
      plausibility_score: round(best.score),
    },
  };
  if (req.query.get("include_embedding") === "true") {
    response.completed_embedding = Array.from(done.embedding, round);
  }
  return reply(200, response);
}

function completedEpisode(space: MemorySpace, s: ScoredMemory, known: Record<string, string>) {
  const m = space.record(s.memory);
  const who = known.who !== undefined ? [known.who] : m.episode?.who ?? null;
  return {
    id: m.id,
    when: known.when ?? m.episode?.when ?? m.observedAt,
    what: known.what ?? m.content,
    where_location: known.where ?? known.where_location ?? m.episode?.whereLocation ?? null,
    who,
    encoding_confidence: m.confidence,
  };
}

// ---------------------------------------------------------------------------------------------
// Confidence shapes

function confidenceInfo(value: number, reasoning: string) {
  const v = round(value);
  return { value: v, category: v > 0.7 ? "High" : v > 0.4 ? "Medium" : "Low", reasoning };
}

function completionConfidence(value: number, reasoning: string) {
  const v = round(value);
  const category = v > 0.9
    ? "Certain"
    : v > 0.7
    ? "High"
    : v > 0.4
    ? "Medium"
    : v > 0.1
    ? "Low"
    : "None";
  return { value: v, category, reasoning };
}

/** Six decimals: float32 noise stays out of responses. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

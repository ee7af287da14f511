import protobuf from 'protobufjs'

/*
 * Remote write 2.0 requests, encoded by protobufjs from the message definitions of the 2.0
 * specification (io.prometheus.write.v2, types.proto), written out here: a sender no one on
 * the project wrote would encode them the same way. Prometheus 2.42 cannot send 2.0.
 */
const SCHEMA = `syntax = "proto3"; package io.prometheus.write.v2;
message Request { reserved 1 to 3; repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
message TimeSeries {
  repeated uint32 labels_refs = 1; repeated Sample samples = 2; repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4; Metadata metadata = 5; int64 created_timestamp = 6;
}
message Exemplar { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
message Sample { double value = 1; int64 timestamp = 2; }
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2; METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5; METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4;
}
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3; sint32 schema = 4; double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9; repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
  ResetHint reset_hint = 14; int64 timestamp = 15; repeated double custom_values = 16;
  enum ResetHint { RESET_HINT_UNSPECIFIED = 0; RESET_HINT_YES = 1; RESET_HINT_NO = 2; RESET_HINT_GAUGE = 3; }
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }`

const Request = protobuf.parse(SCHEMA).root.lookupType('io.prometheus.write.v2.Request')

/** The Content-Type a 2.0 sender gives its requests. */
export const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request'

/** Metric types of the 2.0 Metadata, by name. */
export const V2_TYPE = { unspecified: 0, counter: 1, gauge: 2, histogram: 3, gaugehistogram: 4, summary: 5 } as const

export interface V2Series {
  readonly labels: Readonly<Record<string, string>>
  /** `[epoch ms, value]`. */
  readonly samples?: readonly (readonly [number, number])[]
  readonly metadata?: { type: keyof typeof V2_TYPE; help?: string; unit?: string }
  readonly created?: number
  /** Native histograms, as protobufjs objects of the Histogram message (see `nativeHistogram`). */
  readonly histograms?: readonly NativeHistogramMessage[]
  /** Exemplars, at these epoch ms. */
  readonly exemplars?: readonly number[]
}

/** A Histogram message as protobufjs takes it (camelCase field names). */
export interface NativeHistogramMessage {
  timestamp: number
  countInt?: number
  countFloat?: number
  sum?: number
  schema?: number
  zeroThreshold?: number
  zeroCountInt?: number
  zeroCountFloat?: number
  positiveSpans?: { offset: number; length: number }[]
  positiveDeltas?: number[]
  positiveCounts?: number[]
  negativeSpans?: { offset: number; length: number }[]
  negativeDeltas?: number[]
  negativeCounts?: number[]
  resetHint?: number
  customValues?: number[]
}

/**
 * An integer native histogram at `timestamp` of schema 0 (buckets (2^(i-1), 2^i]): observations
 * 1 in the zero bucket, 3 in bucket 1 (1, 2], 2 in bucket 2 (2, 4], 1 in bucket 4 (8, 16]; one
 * at -1.5, in negative bucket 1. Count 8, sum 33.5.
 */
export function nativeHistogram(timestamp: number): NativeHistogramMessage {
  return {
    timestamp,
    countInt: 8,
    sum: 33.5,
    schema: 0,
    zeroThreshold: 1e-128,
    zeroCountInt: 1,
    // Buckets 1, 2 (a span of two), then a gap of one, then bucket 4.
    positiveSpans: [
      { offset: 1, length: 2 },
      { offset: 1, length: 1 },
    ],
    positiveDeltas: [3, -1, -1],
    negativeSpans: [{ offset: 1, length: 1 }],
    negativeDeltas: [1],
  }
}

/** The uncompressed Request protobuf of `series`, its strings interned in one symbols table (the empty string first). */
export function encodeV2Request(series: readonly V2Series[]): Uint8Array {
  const symbols = ['']
  const ref = (s: string): number => {
    const at = symbols.indexOf(s)
    return at >= 0 ? at : symbols.push(s) - 1
  }
  const timeseries = series.map((s) => ({
    labelsRefs: Object.entries(s.labels).flatMap(([name, value]) => [ref(name), ref(value)]),
    samples: (s.samples ?? []).map(([timestamp, value]) => ({ value, timestamp })),
    histograms: s.histograms ?? [],
    exemplars: (s.exemplars ?? []).map((timestamp) => ({
      labelsRefs: [ref('trace_id'), ref('abc')],
      value: 1,
      timestamp,
    })),
    metadata:
      s.metadata === undefined
        ? undefined
        : {
            type: V2_TYPE[s.metadata.type],
            helpRef: ref(s.metadata.help ?? ''),
            unitRef: ref(s.metadata.unit ?? ''),
          },
    createdTimestamp: s.created ?? 0,
  }))
  return Request.encode(Request.fromObject({ symbols, timeseries })).finish()
}

/** A Request with the given raw symbols and label references, for malformed cases. */
export function encodeRawV2Request(symbols: string[], labelsRefs: number[]): Uint8Array {
  return Request.encode(
    Request.fromObject({ symbols, timeseries: [{ labelsRefs, samples: [{ value: 1, timestamp: Date.now() }] }] }),
  ).finish()
}

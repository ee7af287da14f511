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
  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; int64 timestamp = 15;
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
  /** Native histogram samples (count and sum only), at these epoch ms. */
  readonly histograms?: readonly number[]
  /** Exemplars, at these epoch ms. */
  readonly exemplars?: readonly number[]
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
    histograms: (s.histograms ?? []).map((timestamp) => ({ countInt: 3, sum: 1.5, schema: 0, timestamp })),
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

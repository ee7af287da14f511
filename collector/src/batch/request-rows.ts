import type { PointBatch } from '../model/batch.ts'
import { encodeBatch, joinChunks, type EncodedBatch } from '../store/encoded-batch.ts'

/**
 * The rows of one request decoded in slices (see decode/remote-write.ts, `RemoteWriteDecoding`),
 * encoded slice by slice as they come and handed to the pipeline whole:
 *
 *   add(slice 1) … add(slice n)   encode each slice at once (in the turn that decoded it)
 *   submit()                      one log record with every slice's rows: the request is
 *                                 acknowledged whole, or refused whole with nothing written
 *
 * A new series gets its row in the first slice that refers to it, and not again in a later
 * one (`#carried`), unless another request's rows carry it already.
 */
export class RequestRows {
  readonly #parts: EncodedBatch[] = []
  /** Series whose row an earlier slice of this request carries. */
  readonly #carried = new Set<bigint>()
  readonly #isStored: (id: bigint) => boolean
  readonly #isLogged: (id: bigint) => boolean
  readonly #submit: (encoded: EncodedBatch) => Promise<void>
  #points = 0
  #exemplars = 0

  /**
   * @param isStored whether a series' row is in the store
   * @param isLogged whether a series' row travels in rows accepted and not yet committed
   * @param submit hands the joined rows to the pipeline (`WritePipeline.begin` wires it)
   */
  constructor(
    isStored: (id: bigint) => boolean,
    isLogged: (id: bigint) => boolean,
    submit: (encoded: EncodedBatch) => Promise<void>,
  ) {
    this.#isStored = isStored
    this.#isLogged = isLogged
    this.#submit = submit
  }

  /** Points added so far. */
  get points(): number {
    return this.#points
  }

  /** Encodes the points of one slice. */
  add(batch: PointBatch): void {
    if (batch.pointCount === 0 && batch.exemplars.length === 0) return
    const encoded = encodeBatch(batch, this.#isStored, (id) => this.#carried.has(id) || this.#isLogged(id))
    for (const s of encoded.newSeries) this.#carried.add(s.id)
    this.#parts.push(encoded)
    this.#points += encoded.points
    this.#exemplars += encoded.exemplars
  }

  /** Resolves when the whole request is acknowledged (see `WritePipeline.submit`). */
  submit(): Promise<void> {
    const parts = this.#parts
    if (parts.length <= 1) return this.#submit(parts[0] ?? { points: 0, exemplars: 0, newSeries: [], chunks: [] })
    return this.#submit({
      points: this.#points,
      exemplars: this.#exemplars,
      newSeries: parts.flatMap((p) => p.newSeries),
      chunks: joinChunks(parts),
    })
  }
}

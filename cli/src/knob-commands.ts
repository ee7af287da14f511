import { parseArgs } from 'node:util'
import {
  type Answer,
  call,
  COMMON,
  EXIT,
  type Fetch,
  type Out,
  refused,
  UsageError,
} from '../../collector/src/cli/client-commands.ts'

export const KNOB_USAGE = `  knobs list      Every knob: governor knobs list [--service NAME]
  knobs get       One knob and its history: governor knobs get --service api pool.size
  knobs set       Set a value: governor knobs set --service api pool.size 40 --reason "black friday"
                      [--actor alice] [--mode manual|auto]
  knobs pin       Hold a knob where it is, or at VALUE (controllers and declarations leave it):
                    governor knobs pin --service api pool.size [40] --reason TEXT [--actor alice]
  knobs unpin     governor knobs unpin --service api pool.size --reason TEXT [--actor alice]
  knobs revert    Back to the value of an earlier version:
                    governor knobs revert --service api pool.size --version 3 --reason TEXT [--actor alice]
                    (--actor is optional with a token: the token's name is recorded)`

/** A knob as the API answers it (`knobJson` in collector/src/api/knobs.ts), the fields printed. */
interface KnobAnswer {
  service: string
  name: string
  type: string
  value: unknown
  mode: string
  version: number
  changed_at: string
  changed_by: string
  reason: string
  conflict: string | null
  history?: { version: number; value: unknown; mode: string; changed_at: string; changed_by: string; reason: string }[]
}

const CHANGE = {
  ...COMMON,
  service: { type: 'string' },
  actor: { type: 'string' },
  reason: { type: 'string' },
} as const

/** Runs `knobs list|get|set|pin|unpin|revert` (argv without `knobs`); resolves to the exit code. */
export async function runKnobCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: Out,
  fetchFn: Fetch = fetch,
): Promise<number> {
  try {
    const [sub, ...args] = argv
    switch (sub) {
      case 'list':
        return await list(args, env, out, fetchFn)
      case 'get':
        return await get(args, env, out, fetchFn)
      case 'set':
        return await change('set', args, env, out, fetchFn)
      case 'pin':
        return await change('pin', args, env, out, fetchFn)
      case 'unpin':
        return await change('unpin', args, env, out, fetchFn)
      case 'revert':
        return await change('revert', args, env, out, fetchFn)
      default:
        throw new UsageError(
          sub === undefined
            ? 'knobs needs a command: list, get, set, pin, unpin or revert'
            : `unknown command "knobs ${sub}"`,
        )
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr(`governor: ${(err as Error).message}\n`)
      return EXIT.USAGE
    }
    throw err
  }
}

async function list(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v } = parseArgs({ args, strict: true, options: { ...COMMON, service: { type: 'string' } } })
  const res = await call(
    fetchFn,
    env,
    v,
    'GET',
    `/api/v1/knobs${v.service ? `?${new URLSearchParams({ service: v.service })}` : ''}`,
    undefined,
    out,
  )
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const { knobs } = res.body as { knobs: KnobAnswer[] }
  if (v.json) out.stdout(`${JSON.stringify(knobs)}\n`)
  else
    for (const k of knobs) out.stdout(`${k.service}\t${k.name}\t${JSON.stringify(k.value)}\t${k.mode}\tv${k.version}\n`)
  return EXIT.OK
}

async function get(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...COMMON, service: { type: 'string' } },
  })
  const [name] = knobOf(v.service, positionals, 0, 'get')
  const res = await call(fetchFn, env, v, 'GET', knobPath(v.service!, name), undefined, out)
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const k = res.body as KnobAnswer
  if (v.json) {
    out.stdout(`${JSON.stringify(k)}\n`)
    return EXIT.OK
  }
  out.stdout(
    `${k.service} ${k.name} = ${JSON.stringify(k.value)} (${k.type}, ${k.mode}, v${k.version}, ${k.changed_at} by ${k.changed_by}: ${k.reason})\n`,
  )
  if (k.conflict !== null) out.stdout(`  conflict: ${k.conflict}\n`)
  for (const h of k.history ?? [])
    out.stdout(
      `  v${h.version}\t${JSON.stringify(h.value)}\t${h.mode}\t${h.changed_at}\t${h.changed_by}\t${h.reason}\n`,
    )
  return EXIT.OK
}

type Change = 'set' | 'pin' | 'unpin' | 'revert'

/** `set`, `pin`, `unpin` and `revert`: each records who and why, and prints the knob as it now is. */
async function change(what: Change, args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...CHANGE, mode: { type: 'string' }, version: { type: 'string' } },
  })
  const valueCount = what === 'set' ? 1 : what === 'pin' && positionals.length > 1 ? 1 : 0
  const [name, text] = knobOf(v.service, positionals, valueCount, what)
  if (!v.reason) throw new UsageError(`knobs ${what} needs --reason`)
  if (!v.actor && !(v.token ?? env.GOVERNOR_TOKEN))
    throw new UsageError(`knobs ${what} needs --actor (or a token, whose name is recorded)`)
  if (v.mode !== undefined && what !== 'set') throw new UsageError(`--mode is an option of knobs set only`)
  if ((v.version !== undefined) !== (what === 'revert'))
    throw new UsageError(
      what === 'revert' ? 'knobs revert needs --version N' : `--version is an option of knobs revert only`,
    )
  const path = knobPath(v.service!, name)
  const who = { actor: v.actor, reason: v.reason }
  let res: Answer | undefined
  if (what === 'revert') {
    const version = Number(v.version)
    if (!Number.isInteger(version) || version < 1)
      throw new UsageError(`--version must be a whole number from 1, got ${JSON.stringify(v.version)}`)
    res = await call(fetchFn, env, v, 'POST', `${path}/revert`, { ...who, version }, out)
  } else if (what === 'unpin') {
    // DELETE carries no body: who and why go in the query.
    const q = new URLSearchParams({ reason: v.reason })
    if (v.actor) q.set('actor', v.actor)
    res = await call(fetchFn, env, v, 'DELETE', `${path}/pin?${q}`, undefined, out)
  } else {
    let value: unknown
    if (text !== undefined) {
      // The command line gives text; the knob's type says what JSON value it means.
      const current = await call(fetchFn, env, v, 'GET', path, undefined, out)
      if (current === undefined) return EXIT.UNREACHABLE
      if (!current.ok) return refused(current, out)
      value = valueOf(text, (current.body as KnobAnswer).type)
    }
    res =
      what === 'set'
        ? await call(fetchFn, env, v, 'POST', `${path}/value`, { ...who, value, mode: v.mode }, out)
        : await call(fetchFn, env, v, 'POST', `${path}/pin`, { ...who, value }, out)
  }
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const k = res.body as KnobAnswer
  out.stdout(
    v.json
      ? `${JSON.stringify(k)}\n`
      : `${k.service} ${k.name} = ${JSON.stringify(k.value)} (${k.mode}, v${k.version})\n`,
  )
  return EXIT.OK
}

/** The knob name (and `valueCount` values) from the positionals; --service is required. */
function knobOf(
  service: string | undefined,
  positionals: string[],
  valueCount: number,
  what: string,
): [string, string | undefined] {
  if (!service) throw new UsageError(`knobs ${what} needs --service`)
  if (positionals.length !== 1 + valueCount) {
    throw new UsageError(
      `knobs ${what} takes ${valueCount === 0 ? 'a knob name' : 'a knob name and a value'}, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`,
    )
  }
  return [positionals[0]!, positionals[1]]
}

function knobPath(service: string, name: string): string {
  return `/api/v1/knobs/${encodeURIComponent(service)}/${encodeURIComponent(name)}`
}

/**
 * The JSON value `text` stands for on a knob of `type`. Text that does not fit is sent as it is,
 * so that the server refuses it with the reason (exit 1).
 */
export function valueOf(text: string, type: string): unknown {
  if (type === 'int' || type === 'float' || type === 'percent') {
    const n = text.trim() === '' ? Number.NaN : Number(text)
    return Number.isFinite(n) ? n : text
  }
  if (type === 'bool') return text === 'true' ? true : text === 'false' ? false : text
  return text
}

/**
 * Attaching to a running container over a unix socket that its monitor
 * serves, as `docker attach` does through the daemon. Any number of clients
 * may attach; each sees the output from the moment it connects, may type into
 * the container's stdin (when it was created with `-i`) and resize its
 * terminal (`-t`). A client that detaches (Ctrl-P Ctrl-Q) just goes; the
 * container runs on.
 *
 * The wire format is Docker's multiplexed stream header, both ways: one type
 * byte, three zero bytes, a big-endian 32-bit payload length, the payload.
 * Types: 0 stdin, 1 stdout, 2 stderr (Docker's), and berth's own 3 resize
 * (rows, cols as big-endian 16-bit), 4 end of stdin, 5 exit (the exit code
 * in decimal), 6 refusal (a message).
 *
 * @module
 */
import { closeFd, O_CLOEXEC, O_NONBLOCK, O_WRONLY, openFd, writeAll } from "../../ffi/fd.ts";
import {
  connectUnix,
  receive,
  sendBytes,
  SHUT_RDWR,
  SHUT_WR,
  shutdownSocket,
  SOCK_SEQPACKET,
} from "../../ffi/socket.ts";
import { EngineError } from "../errors.ts";

/** Frame types of the attach protocol. */
export const FRAME = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  resize: 3,
  closeStdin: 4,
  exit: 5,
  refuse: 6,
} as const;

const HEADER = 8;
/** A slow client whose unsent output passes this is dropped, so it cannot stall the container. */
const MAX_BACKLOG = 8 << 20;

/** Encodes one frame. */
export function encodeFrame(type: number, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, HEADER);
  return out;
}

async function writeFully(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Splits a byte stream into frames. */
export class FrameDecoder {
  #buf = new Uint8Array(0);

  /** Feeds bytes; returns the frames now complete. */
  push(bytes: Uint8Array): { type: number; payload: Uint8Array }[] {
    const joined = new Uint8Array(this.#buf.length + bytes.length);
    joined.set(this.#buf);
    joined.set(bytes, this.#buf.length);
    const frames: { type: number; payload: Uint8Array }[] = [];
    let off = 0;
    while (joined.length - off >= HEADER) {
      const len = new DataView(joined.buffer, off + 4, 4).getUint32(0);
      if (joined.length - off - HEADER < len) break;
      frames.push({ type: joined[off]!, payload: joined.slice(off + HEADER, off + HEADER + len) });
      off += HEADER + len;
    }
    this.#buf = joined.slice(off);
    return frames;
  }
}

/** The socket path of a container's attach endpoint. */
export function attachSocketPath(runRoot: string, id: string): string {
  // sun_path holds 108 bytes; 96 bits of the ID are unique enough and keep deep run roots usable.
  return `${runRoot}/attach/${id.slice(0, 24)}.sock`;
}

/** What the monitor plugs into the hub for the container that runs now. */
export interface AttachTarget {
  /** Writes to the container's stdin; absent when it was created without `-i`. */
  write?: (bytes: Uint8Array) => void;
  /** Ends the container's stdin (when a `-i` client's input ends and the container wants that). */
  closeStdin?: () => void;
  /** Resizes its terminal. */
  resize?: (rows: number, cols: number) => void;
}

interface Client {
  conn: Deno.UnixConn;
  backlog: number;
  chain: Promise<void>;
  closed: boolean;
}

/** The monitor's side: the listening socket and the attached clients. */
export class AttachHub {
  readonly path: string;
  #listener: Deno.UnixListener;
  #clients = new Set<Client>();
  #target: AttachTarget | undefined;
  /** Set once the container has run: why no more clients are taken. */
  #refusal: string | undefined;
  /** Input that arrived before the container started. */
  #early: { type: number; payload: Uint8Array }[] | undefined = [];
  #firstClient: Promise<void>;
  #gotClient!: () => void;

  private constructor(path: string, listener: Deno.UnixListener) {
    this.path = path;
    this.#listener = listener;
    this.#firstClient = new Promise((resolve) => (this.#gotClient = resolve));
    this.#accept();
  }

  /** Listens on `path` (a stale socket there is replaced; its directory is root-only). */
  static listen(path: string): AttachHub {
    const dir = path.slice(0, path.lastIndexOf("/"));
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      Deno.removeSync(path);
    } catch {
      // none there
    }
    return new AttachHub(path, Deno.listen({ transport: "unix", path }));
  }

  /** Resolves when the first client has connected. */
  firstClient(): Promise<void> {
    return this.#firstClient;
  }

  /** Plugs in the running container (or, with a refusal message, says why none can be reached). */
  setTarget(target: AttachTarget | undefined, refusal?: string): void {
    this.#target = target;
    this.#refusal = target === undefined ? refusal ?? "The container is not running" : undefined;
    const early = this.#early;
    this.#early = undefined;
    if (target !== undefined) { for (const frame of early ?? []) deliver(target, frame); }
  }

  /** Sends the container's output to every client. */
  output(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    if (this.#clients.size === 0) return;
    const frame = encodeFrame(stream === "stdout" ? FRAME.stdout : FRAME.stderr, bytes);
    for (const client of this.#clients) this.#send(client, frame);
  }

  /** Tells every client the container exited with `code`, and lets them go. */
  async finish(code: number): Promise<void> {
    const frame = encodeFrame(FRAME.exit, new TextEncoder().encode(String(code)));
    const clients = [...this.#clients];
    for (const client of clients) this.#send(client, frame);
    await Promise.all(clients.map((c) => c.chain));
    for (const client of clients) this.#drop(client);
  }

  /** Stops listening and removes the socket; clients still attached are cut off. */
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // closed already
    }
    for (const client of this.#clients) this.#drop(client);
    try {
      Deno.removeSync(this.path);
    } catch {
      // gone already
    }
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const client: Client = { conn, backlog: 0, chain: Promise.resolve(), closed: false };
        if (this.#refusal !== undefined) {
          this.#send(client, encodeFrame(FRAME.refuse, new TextEncoder().encode(this.#refusal)));
          client.chain.then(() => this.#drop(client));
        } else {
          this.#clients.add(client);
          this.#serve(client);
        }
        this.#gotClient();
      }
    } catch {
      // the listener was closed
    }
  }

  async #serve(client: Client): Promise<void> {
    const decoder = new FrameDecoder();
    const buf = new Uint8Array(32 * 1024);
    try {
      for (;;) {
        const n = await client.conn.read(buf);
        if (n === null) break;
        for (const frame of decoder.push(buf.subarray(0, n))) {
          if (this.#target !== undefined) deliver(this.#target, frame);
          else this.#early?.push(frame);
        }
      }
    } catch {
      // the client went away
    }
    this.#drop(client);
  }

  #send(client: Client, frame: Uint8Array): void {
    if (client.closed) return;
    client.backlog += frame.length;
    if (client.backlog > MAX_BACKLOG) {
      this.#drop(client);
      return;
    }
    client.chain = client.chain.then(async () => {
      if (client.closed) return;
      try {
        await writeFully(client.conn, frame);
      } catch {
        this.#drop(client);
      }
      client.backlog -= frame.length;
    });
  }

  #drop(client: Client): void {
    this.#clients.delete(client);
    if (client.closed) return;
    client.closed = true;
    try {
      client.conn.close();
    } catch {
      // closed already
    }
  }
}

function deliver(target: AttachTarget, { type, payload }: { type: number; payload: Uint8Array }) {
  if (type === FRAME.stdin) target.write?.(payload);
  else if (type === FRAME.closeStdin) target.closeStdin?.();
  else if (type === FRAME.resize && payload.length >= 4) {
    const view = new DataView(payload.buffer, payload.byteOffset, 4);
    target.resize?.(view.getUint16(0), view.getUint16(2));
  }
}

/** How an attach session ended. */
export type AttachEnd =
  | { kind: "exit"; exitCode: number }
  | { kind: "detached" }
  | { kind: "lost" };

/** A client's connection to a container's monitor. */
export interface AttachClient {
  /** Sends typed input. */
  write(bytes: Uint8Array): Promise<void>;
  /** Says the input ended. */
  closeStdin(): Promise<void>;
  /** Sends the terminal's size. */
  resize(rows: number, cols: number): Promise<void>;
  /**
   * Delivers output until the container exits or the connection ends.
   * @throws {EngineError} when the monitor refuses the attach (its message)
   */
  receive(output: (stream: "stdout" | "stderr", bytes: Uint8Array) => void): Promise<AttachEnd>;
  /** Detaches: closes the connection; the container runs on. */
  close(): void;
}

/** Connecting to a container's monitor. */
export const AttachClient = {
  /**
   * Connects to the attach socket of a foreground `run` at `path`.
   * @throws {EngineError} when nothing listens there
   */
  connect(path: string): Promise<AttachClient> {
    return HubAttachClient.connect(path);
  },
  /**
   * Connects to conmon's attach socket at `path`.
   * @param options.bundle the bundle directory, where conmon's resize fifo is
   * @param options.exit resolves to the container's exit code once its end is recorded
   *   (undefined when its monitor died)
   * @throws {EngineError} when nothing listens there
   */
  connectConmon(
    path: string,
    options: { bundle: string; exit: () => Promise<number | undefined> },
  ): AttachClient {
    let fd: number;
    try {
      fd = connectUnix(path, SOCK_SEQPACKET);
    } catch (error) {
      throw new EngineError("Cannot attach: the container's monitor is not reachable", {
        cause: error,
      });
    }
    return new ConmonAttachClient(fd, options.bundle, options.exit);
  },
};

/** conmon's stream ids, the first byte of each packet it sends. */
const CONMON_STDOUT = 2;
const CONMON_STDERR = 3;
/** conmon reads at most this much of a client's packet. */
const CONMON_MAX_INPUT = 8192;

/**
 * A connection to conmon's attach socket (SOCK_SEQPACKET): each packet from
 * conmon is a stream id byte and output; each packet to it is input. The end
 * of input is a shutdown of the writing side; resizes go through conmon's
 * control fifo in the bundle. conmon closes the socket when the container
 * ends and writes the exit code afterwards, so the code comes from `exit`.
 */
class ConmonAttachClient implements AttachClient {
  #fd: number;
  #bundle: string;
  #exit: () => Promise<number | undefined>;
  #closed = false;
  #receiving = false;
  #fdClosed = false;

  constructor(fd: number, bundle: string, exit: () => Promise<number | undefined>) {
    this.#fd = fd;
    this.#bundle = bundle;
    this.#exit = exit;
  }

  write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length && !this.#closed; off += CONMON_MAX_INPUT) {
      if (sendBytes(this.#fd, bytes.slice(off, off + CONMON_MAX_INPUT)) < 0) break;
    }
    return Promise.resolve();
  }

  closeStdin(): Promise<void> {
    if (!this.#closed) shutdownSocket(this.#fd, SHUT_WR);
    return Promise.resolve();
  }

  resize(rows: number, cols: number): Promise<void> {
    let fd: number;
    try {
      fd = openFd(`${this.#bundle}/ctl`, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    } catch {
      return Promise.resolve(); // conmon is gone
    }
    try {
      writeAll(fd, new TextEncoder().encode(`1 ${rows} ${cols}\n`));
    } catch {
      // conmon is gone
    } finally {
      closeFd(fd);
    }
    return Promise.resolve();
  }

  async receive(
    output: (stream: "stdout" | "stderr", bytes: Uint8Array) => void,
  ): Promise<AttachEnd> {
    this.#receiving = true;
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await receive(this.#fd, buf);
        if (n <= 0) break;
        if (buf[0] === CONMON_STDOUT) output("stdout", buf.slice(1, n));
        else if (buf[0] === CONMON_STDERR) output("stderr", buf.slice(1, n));
      }
    } finally {
      this.#receiving = false;
      this.#release();
    }
    if (this.#closed) return { kind: "detached" };
    const exitCode = await this.#exit();
    return exitCode === undefined ? { kind: "lost" } : { kind: "exit", exitCode };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Wakes a pending receive, which then closes the fd.
    shutdownSocket(this.#fd, SHUT_RDWR);
    if (!this.#receiving) this.#release();
  }

  #release(): void {
    if (this.#fdClosed) return;
    this.#fdClosed = true;
    closeFd(this.#fd);
  }
}

/** A connection to the attach socket a foreground `run` serves (berth's frames). */
class HubAttachClient implements AttachClient {
  #conn: Deno.UnixConn;
  #closed = false;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /**
   * Connects to the attach socket at `path`.
   * @throws {EngineError} when nothing listens there
   */
  static async connect(path: string): Promise<AttachClient> {
    try {
      return new HubAttachClient(await Deno.connect({ transport: "unix", path }));
    } catch (error) {
      throw new EngineError("Cannot attach: the container's monitor is not reachable", {
        cause: error,
      });
    }
  }

  /** Sends typed input. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.#frame(FRAME.stdin, bytes);
  }

  /** Says the input ended. */
  async closeStdin(): Promise<void> {
    await this.#frame(FRAME.closeStdin);
  }

  /** Sends the terminal's size. */
  async resize(rows: number, cols: number): Promise<void> {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint16(0, rows);
    new DataView(payload.buffer).setUint16(2, cols);
    await this.#frame(FRAME.resize, payload);
  }

  /**
   * Delivers output until the container exits or the connection ends.
   * @throws {EngineError} when the monitor refuses the attach (its message)
   */
  async receive(
    output: (stream: "stdout" | "stderr", bytes: Uint8Array) => void,
  ): Promise<AttachEnd> {
    const decoder = new FrameDecoder();
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch {
          n = null;
        }
        if (n === null) return { kind: this.#closed ? "detached" : "lost" };
        for (const { type, payload } of decoder.push(buf.subarray(0, n))) {
          if (type === FRAME.stdout) output("stdout", payload);
          else if (type === FRAME.stderr) output("stderr", payload);
          else if (type === FRAME.exit) {
            return { kind: "exit", exitCode: Number(new TextDecoder().decode(payload)) };
          } else if (type === FRAME.refuse) {
            throw new EngineError(new TextDecoder().decode(payload), { exitCode: 1 });
          }
        }
      }
    } finally {
      this.close();
    }
  }

  /** Detaches: closes the connection; the container runs on. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }

  async #frame(type: number, payload?: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const frame = encodeFrame(type, payload);
    try {
      await writeFully(this.#conn, frame);
    } catch {
      // the monitor went away; receive() reports it
    }
  }
}

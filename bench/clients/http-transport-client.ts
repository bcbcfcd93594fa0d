/**
 * What the HTTP transports' clients share: registration, sending by POST, push and broadcast
 * requests, and closing; a subclass only says how messages come down (polls or a stream). The
 * requests go over HTTP/1.1 (HttpSession: a couple of connections) or, with ClientOptions.http
 * '2', HTTP/2 (Http2Session: one connection, a stream per request).
 */
import type { BroadcastRequest, PushRequest, TransportName } from '../../servers/contract.ts';
import { Http2Session } from './http2-session.ts';
import { HttpSession, HttpStatusError, type HttpClientSession } from './http-session.ts';
import { ClientBase, type ClientOptions, type TransportClient } from './transport-client.ts';

export abstract class HttpTransportClient extends ClientBase implements TransportClient {
  abstract readonly transport: TransportName;
  protected readonly session: HttpClientSession;
  /** The receiving loop, which ends once the client is closed. */
  private receiving: Promise<void> = Promise.resolve();

  constructor(options: ClientOptions) {
    super(options);
    this.session = options.http === '2' ? new Http2Session(options, this.wire) : new HttpSession(options, this.wire);
  }

  /**
   * Starts receiving; `started` is called once the client is ready to be counted as connected
   * (a poll loop at once, a stream once its response has arrived), `failed` if it never is.
   */
  protected abstract receive(started: () => void, failed: (error: unknown) => void): Promise<void>;

  /** Forgets what it received from a server that no longer knows the client (its ids start again). */
  protected abstract forgetReceived(): void;

  /**
   * When the server answers that it does not know the client (it was restarted, or forgot the
   * client), the client registers again and says so; true when `error` was that answer.
   */
  protected async comeBackIfForgotten(error: unknown): Promise<boolean> {
    if (!(error instanceof HttpStatusError) || error.status !== 404 || !error.body.includes('"unknown-client"')) return false;
    this.session.clientId = await this.session.register();
    this.forgetReceived();
    this.onReconnected();
    return true;
  }

  async connect(): Promise<void> {
    this.session.clientId = await this.session.register();
    await new Promise<void>((resolve, reject) => {
      this.receiving = this.receive(resolve, reject);
    });
  }

  send(message: string | Buffer): Promise<void> {
    return this.session.send(message);
  }

  requestPush(request: PushRequest): Promise<void> {
    return this.session.requestPush(request);
  }

  requestBroadcast(request: BroadcastRequest): Promise<void> {
    return this.session.requestBroadcast(request);
  }

  interrupt(): void {
    this.session.dropConnections();
  }

  pauseReading(paused: boolean): void {
    this.session.pauseReading(paused);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.session.close();
    await this.receiving;
  }
}

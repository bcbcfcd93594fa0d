/**
 * Server-Sent Events client: registers, holds GET /events open, and sends messages by POST.
 * When the stream ends or fails (not by close()), it reconnects with Last-Event-ID, so the
 * server resends whatever the client missed.
 */
import { ROUTES, clockNowMs } from '../../servers/contract.ts';
import { HttpStatusError } from './http-session.ts';
import { SseParser } from './sse-parser.ts';
import { countError } from './transport-client.ts';
import { HttpTransportClient } from './http-transport-client.ts';

const RECONNECT_AFTER_MS = 100;

export class SseClient extends HttpTransportClient {
  readonly transport = 'sse' as const;
  private lastEventId = '';

  protected forgetReceived(): void {
    this.lastEventId = '';
  }

  /** Ready once the first stream is open (its response headers arrived). */
  protected receive(opened: () => void, failed: (error: unknown) => void): Promise<void> {
    return this.streamForever(opened, failed);
  }

  private async streamForever(opened: () => void, failed: (error: unknown) => void): Promise<void> {
    let first = true;
    while (!this.closing) {
      try {
        await this.stream(() => {
          if (first) opened();
          first = false;
        });
      } catch (error) {
        if (this.closing) return;
        if (first) {
          failed(error);
          return;
        }
        countError(this.errors, error);
        if (await this.comeBackIfForgotten(error).catch(() => false)) continue;
      }
      if (this.closing) return;
      await this.session.pause(RECONNECT_AFTER_MS);
    }
  }

  /** One stream, from request to its end. */
  private stream(opened: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (this.lastEventId !== '') headers['Last-Event-ID'] = this.lastEventId;
      let status = 0;
      const refused: Buffer[] = [];
      const parser = new SseParser((event) => {
        this.lastEventId = event.id;
        this.onMessage(event.data, clockNowMs());
      });
      this.session.exchange(
        'GET',
        this.session.path(ROUTES.events),
        {
          onHead: (code) => {
            status = code;
            if (status === 200) opened();
          },
          onData: (bytes) => {
            if (status === 200) parser.push(bytes);
            else refused.push(Buffer.from(bytes));
          },
          onEnd: () => {
            if (status === 200) resolve();
            else reject(new HttpStatusError(status, Buffer.concat(refused).toString('utf8'), 'GET /events'));
          },
          onError: reject,
        },
        headers,
      );
    });
  }
}

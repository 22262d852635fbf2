//! Live program events for one request: `logsSubscribe` on the program, decoded with the IDL's event coder.
import { useEffect, useState } from "react";
import type { PublicKey } from "@solana/web3.js";
import { useVerity } from "../context";
import { short } from "../lib/format";
import { parseEvents } from "@verity/sdk";

interface Seen {
  name: string;
  signature: string;
  summary: string;
}

function summarize(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([k]) => k !== "request")
    .map(([k, v]) => {
      if (v && typeof v === "object" && "toBase58" in (v as object)) return `${k}=${short((v as PublicKey).toBase58())}`;
      if (Array.isArray(v)) return `${k}=[${v.length}]`;
      if (v && typeof v === "object" && !("toString" in (v as object) && (v as any).toString !== Object.prototype.toString)) return `${k}=${Object.keys(v as object)[0]}`;
      return `${k}=${String(v)}`;
    })
    .join(" ");
}

export function EventFeed({ request }: { request: PublicKey }) {
  const { program } = useVerity();
  const [events, setEvents] = useState<Seen[]>([]);
  useEffect(() => {
    const conn = program.provider.connection;
    const me = request.toBase58();
    // The same transaction can be notified more than once (forks, re-sent transactions): show its events once.
    const signatures = new Set<string>();
    const sub = conn.onLogs(
      program.programId,
      (l) => {
        if (l.err || signatures.has(l.signature)) return;
        signatures.add(l.signature);
        const mine: Seen[] = [];
        for (const ev of parseEvents(program, l.logs)) {
          const data = ev.data as Record<string, unknown>;
          if (String((data.request as PublicKey | undefined)?.toBase58?.()) === me) {
            mine.push({ name: ev.name, signature: l.signature, summary: summarize(data) });
          }
        }
        if (mine.length) setEvents((prev) => [...prev, ...mine]);
      },
      "confirmed",
    );
    return () => {
      conn.removeOnLogsListener(sub);
    };
  }, [program, request.toBase58()]);
  return (
    <div className="events" data-testid="events">
      <h3>Live events <small>(logsSubscribe, since this page opened)</small></h3>
      {events.length === 0 ? <p className="muted">none yet</p> : (
        <ul>
          {events.map((e, i) => (
            <li key={i} data-testid="event" data-name={e.name}><strong>{e.name}</strong> <code>{e.summary}</code></li>
          ))}
        </ul>
      )}
    </div>
  );
}

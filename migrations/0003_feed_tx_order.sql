DROP INDEX "events_feed_idx";--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "events_feed_tx_idx" ON "events" USING btree ("project_id","tx_id","event_id") WHERE "events"."type" in ('session.revoked', 'user.updated');
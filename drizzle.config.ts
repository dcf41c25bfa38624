import { defineConfig } from "drizzle-kit";

// Only `npm run db:generate` reads this: it turns src/store/schema.ts into SQL in migrations/.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./migrations",
});

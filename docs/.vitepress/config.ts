import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitepress"

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

// The API reference is generated from the source before the site is built; see scripts/api-docs.ts.
const apiSidebar = (): Array<{ text: string; items: Array<{ text: string; link: string }> }> => {
  const file = path.join(docs, "api", "sidebar.json")
  if (!fs.existsSync(file)) {
    throw new Error("The API reference has not been generated: run `npx tsx scripts/api-docs.ts` first.")
  }
  return JSON.parse(fs.readFileSync(file, "utf8"))
}

export default defineConfig({
  title: "effect-opensolar-auth",
  description: "OpenSolar API bearer tokens for Effect programs",
  lang: "en",
  // Everything the site needs is served from its own origin: no web fonts, no hosted search.
  useWebFonts: false,
  lastUpdated: false,
  srcExclude: ["snippets/**"],
  themeConfig: {
    search: { provider: "local" },
    outline: { level: [2, 3] },
    nav: [
      { text: "Guide", link: "/getting-started" },
      { text: "API reference", link: "/api/" }
    ],
    sidebar: [
      {
        text: "Guide",
        items: [
          { text: "Getting started", link: "/getting-started" },
          { text: "Strategies", link: "/strategies" },
          { text: "TokenRef and refreshes", link: "/token-ref" },
          { text: "OpenSolarClient", link: "/client" },
          { text: "MFA and TOTP", link: "/mfa" },
          { text: "Machine users", link: "/machine-users" },
          { text: "Nearmap users", link: "/nearmap" },
          { text: "Organisations", link: "/orgs" },
          { text: "Token storage", link: "/token-storage" },
          { text: "Running a fleet", link: "/fleet" },
          { text: "Errors and retries", link: "/errors" },
          { text: "Testing with the simulator", link: "/testing" },
          { text: "The CLI", link: "/cli" },
          { text: "Security", link: "/security" },
          { text: "Recipes", link: "/recipes" }
        ]
      },
      {
        text: "API reference",
        link: "/api/",
        items: apiSidebar().map((group) => ({ ...group, collapsed: false }))
      }
    ]
  }
})

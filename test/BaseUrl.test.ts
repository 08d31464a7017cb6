import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as BaseUrl from "../src/BaseUrl.js"

const decode = Schema.decodeUnknownEither(BaseUrl.BaseUrl)

const refusal = (text: string): string =>
  Either.match(decode(text), {
    onLeft: (error) => error.message,
    onRight: (url) => {
      throw new Error(`expected ${text} to be refused, got ${url}`)
    }
  })

describe("BaseUrl", () => {
  it("accepts https, removing trailing slashes and surrounding white space", () => {
    expect(BaseUrl.unsafeMake("https://api.opensolar.com")).toBe("https://api.opensolar.com")
    expect(BaseUrl.unsafeMake("https://api.opensolar.com/")).toBe("https://api.opensolar.com")
    expect(BaseUrl.unsafeMake(" https://api.opensolar.com/// ")).toBe("https://api.opensolar.com")
    expect(BaseUrl.unsafeMake("https://gateway.example.com:8443/opensolar/")).toBe(
      "https://gateway.example.com:8443/opensolar"
    )
  })

  it("accepts plain http only on loopback hosts", () => {
    for (const text of ["http://localhost:8000", "http://127.0.0.1:54321/", "http://127.8.9.10", "http://[::1]:80/"]) {
      expect(Either.isRight(decode(text))).toBe(true)
    }
    expect(refusal("http://api.opensolar.com")).toContain(
      "plain http is allowed only for loopback hosts; use https://api.opensolar.com"
    )
    expect(refusal("http://127.0.0.1.example.com")).toContain("plain http is allowed only for loopback hosts")
    expect(refusal("http://localhost.example.com")).toContain("plain http is allowed only for loopback hosts")
  })

  it("refuses a user name or password without repeating it", () => {
    const message = refusal("https://arnie:gettothechopper@api.opensolar.com")
    expect(message).toContain("must not contain a user name or password")
    expect(message).not.toContain("gettothechopper")

    const unparsable = refusal("https://arnie:gettothechopper@ api.opensolar.com")
    expect(unparsable).toContain("is not an absolute URL")
    expect(unparsable).not.toContain("gettothechopper")
  })

  it("refuses a query or fragment, even an empty one", () => {
    for (const text of ["https://api.opensolar.com/?org_id=1", "https://api.opensolar.com#top", "https://a.com?"]) {
      expect(refusal(text)).toContain("must not contain a query or fragment")
    }
    expect(refusal("https://api.opensolar.com/#")).toContain("must not contain a query or fragment")
  })

  it("refuses text that is not an absolute URL, and other schemes, saying what to write", () => {
    expect(refusal("api.opensolar.com")).toContain(
      '"api.opensolar.com" is not an absolute URL; use the form https://api.opensolar.com'
    )
    expect(refusal("")).toContain("is not an absolute URL")
    expect(refusal("ftp://api.opensolar.com")).toContain("must use https, not ftp")
  })

  it("names the origin tokens may be sent to", () => {
    expect(BaseUrl.origin(BaseUrl.unsafeMake("https://gateway.example.com:8443/opensolar"))).toBe(
      "https://gateway.example.com:8443"
    )
    expect(BaseUrl.origin(BaseUrl.unsafeMake(BaseUrl.production))).toBe("https://api.opensolar.com")
  })

  it("knows the loopback hosts", () => {
    for (const host of ["localhost", "127.0.0.1", "127.255.0.1", "[::1]", "::1"]) {
      expect(BaseUrl.isLoopbackHost(host)).toBe(true)
    }
    for (const host of ["0.0.0.0", "10.0.0.1", "localhost.example.com", "127.0.0.1.example.com", "api.opensolar.com"]) {
      expect(BaseUrl.isLoopbackHost(host)).toBe(false)
    }
  })
})

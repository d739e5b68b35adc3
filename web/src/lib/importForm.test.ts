import { buildImportInput, DEFAULT_IMPORT_FORM, importServerErrors, validateImportForm } from "./importForm";

describe("import form", () => {
  it("needs one source: a server path, a Hub id or a release with an SAE id", () => {
    expect(validateImportForm(DEFAULT_IMPORT_FORM).source).toMatch(/server folder/);
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, source: "relative/dir:x y" }).source).toMatch(/Not an absolute/);
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, source: "/data/saes/mine" })).toEqual({});
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, source: "jbloom/GPT2-Small-SAEs-Reformatted:blocks.8.hook_resid_pre" })).toEqual({});
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, release: "gpt2-small-res-jb" }).saeId).toMatch(/SAE id/);
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, source: "/a", release: "r" }).release).toMatch(/not both/);
    expect(validateImportForm({ ...DEFAULT_IMPORT_FORM, source: "/a", nTokens: "0" }).nTokens).toMatch(/≥ 1/);
  });

  it("builds the importSae input with the collect keys the server expects", () => {
    expect(buildImportInput({ ...DEFAULT_IMPORT_FORM, source: " /data/x ", nTokens: "2048", corpus: "/data/c.txt" })).toEqual({
      name: null,
      source: "/data/x",
      collect: { corpus: "/data/c.txt", n_tokens: 2048 },
    });
    expect(buildImportInput({ ...DEFAULT_IMPORT_FORM, release: "gpt2-small-res-jb", saeId: "blocks.8.hook_resid_pre", name: "jb" })).toMatchObject({
      release: "gpt2-small-res-jb",
      saeId: "blocks.8.hook_resid_pre",
      name: "jb",
    });
  });

  it("puts a server error next to the field it names", () => {
    expect(importServerErrors("source: '/etc' is not under a data root", "source").fields.source).toMatch(/data root/);
    expect(importServerErrors("bad corpus", "collect.corpus").fields.corpus).toBe("bad corpus");
    expect(importServerErrors("queue down", null)).toEqual({ fields: {}, general: ["queue down"] });
  });
});

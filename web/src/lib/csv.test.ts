import { csvCell, toCsv } from "./csv";

describe("CSV export", () => {
  it("quotes commas, quotes and line breaks; leaves plain cells bare", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(".,\\n, :")).toBe('".,\\n, :"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("a\nb")).toBe('"a\nb"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(Number.NaN)).toBe("");
    expect(csvCell(-0.5)).toBe("-0.5");
    expect(csvCell(1.2345678901234e-7)).toBe("1.2345678901234e-7");
    expect(csvCell(true)).toBe("true");
  });

  it("keeps a spreadsheet from running a label as a formula", () => {
    expect(csvCell("=HYPERLINK(\"x\")")).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell("-ing")).toBe("'-ing");
    expect(csvCell("@user")).toBe("'@user");
  });

  it("writes a header and one CRLF line per row, parseable back", () => {
    const rows = [
      { index: 3, label: "cats, dogs", density: 0.0123 },
      { index: 7, label: null, density: 0 },
    ];
    const text = toCsv(
      [
        { name: "index", value: (r: (typeof rows)[number]) => r.index },
        { name: "label", value: (r) => r.label },
        { name: "density", value: (r) => r.density },
      ],
      rows,
    );
    expect(text).toBe('index,label,density\r\n3,"cats, dogs",0.0123\r\n7,,0\r\n');
  });
});

/* Licence rows kept in the page (the replica's quirks client-filtering and client-paging,
 * see quirks.py): filtered and paged in the browser exactly as the server does it, for
 * both markups' scripts. Data only: nothing here is shown to a person. */
(function () {
  "use strict";

  /* Lower case, accents aside (db.fold). */
  function fold(text) {
    return String(text).toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
  }

  /* The digits of a typed number, "+33 2 31…" read as "02 31…" (db.digits_of). */
  function digitsOf(text) {
    let compact = String(text).replace(/[^0-9+]/g, "");
    if (compact.startsWith("+33")) compact = "0" + compact.slice(3);
    return compact.replace(/\+/g, "");
  }

  /* A test of a row against the filters (URLSearchParams of the filled fields), as
   * db.licences_of applies them: substrings, case and accents aside; digits for the SDA. */
  function matcher(filters) {
    const tests = [];
    filters.forEach(function (value, key) {
      if (key === "sda") {
        const digits = digitsOf(value);
        tests.push(function (row) {
          return digits !== "" && !!row.sda && row.sda.includes(digits);
        });
      } else {
        const needle = fold(value);
        tests.push(function (row) {
          return fold(row.fields[key] || "").includes(needle);
        });
      }
    });
    return function (row) {
      return tests.every(function (test) {
        return test(row);
      });
    };
  }

  /* Page `number` (brought within range) of `rows`, `size` a page. */
  function pageOf(rows, number, size) {
    const pages = Math.max(1, Math.ceil(rows.length / size));
    const page = Math.min(Math.max(number, 1), pages);
    return {
      rows: rows.slice((page - 1) * size, page * size),
      page: page,
      pages: pages,
      total: rows.length,
      per_page: size,
    };
  }

  window.keptRows = { matcher: matcher, pageOf: pageOf };
})();

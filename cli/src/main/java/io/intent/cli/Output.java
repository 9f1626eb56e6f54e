package io.intent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.intent.store.codec.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * How results are printed: {@code table} (and {@code wide}, with more columns) for people, {@code name}
 * ({@code app/web}) for shell loops, {@code json} and {@code yaml} for scripts and for {@code apply -f}.
 */
final class Output {
    enum Format { table, wide, name, json, yaml }

    /** Built on first use only: a table never pays for the YAML writer. */
    private static final class Yaml {
        static final YAMLMapper MAPPER = (YAMLMapper) new YAMLMapper()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    private Output() {
    }

    /** True for the human formats, which print a table. */
    static boolean tabular(Format f) {
        return f == Format.table || f == Format.wide;
    }

    static String yaml(Object value) {
        try {
            return Yaml.MAPPER.writeValueAsString(Json.mapper().valueToTree(value));
        } catch (JsonProcessingException e) {
            throw new CtlException(1, "cannot render YAML: " + e.getMessage());
        }
    }

    /**
     * Prints {@code value} as JSON or YAML; false for the table formats (the caller prints its table). Commands
     * without names to list print {@code -o name} as YAML.
     */
    static boolean structured(PrintWriter out, Format format, Object value) {
        if (tabular(format)) {
            return false;
        }
        JsonNode tree = Json.mapper().valueToTree(value);
        if (format == Format.json) {
            out.println(Json.writePretty(tree));
        } else {
            out.print(yaml(tree));
        }
        out.flush();
        return true;
    }

    /** An aligned text table. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        Table row(Object... cells) {
            String[] r = new String[cells.length];
            for (int i = 0; i < cells.length; i++) {
                r[i] = cells[i] == null ? "-" : cells[i].toString();
            }
            rows.add(r);
            return this;
        }

        void print(PrintWriter out) {
            print(out, true);
        }

        /** Prints the rows, with or without the header line (a watch prints its changed rows only). */
        void print(PrintWriter out, boolean header) {
            int cols = rows.get(0).length;
            int[] w = new int[cols];
            for (String[] r : rows) {
                for (int i = 0; i < cols && i < r.length; i++) {
                    w[i] = Math.max(w[i], r[i].length());
                }
            }
            for (String[] r : header ? rows : rows.subList(1, rows.size())) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < cols && i < r.length; i++) {
                    sb.append(r[i]);
                    if (i < cols - 1) {
                        // padded by hand: String.format's Formatter loads the locale data, a tenth of a call
                        sb.append(" ".repeat(w[i] - r[i].length() + 3));
                    }
                }
                out.println(sb.toString().stripTrailing());
            }
            out.flush();
        }
    }
}

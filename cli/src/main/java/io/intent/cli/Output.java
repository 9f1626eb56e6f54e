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

/** How results are printed: {@code table} for people, {@code json} and {@code yaml} for scripts. */
final class Output {
    enum Format { table, json, yaml }

    private static final YAMLMapper YAML = (YAMLMapper) new YAMLMapper()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private Output() {
    }

    /** Prints {@code value} as JSON or YAML; false for the table format (the caller prints its table). */
    static boolean structured(PrintWriter out, Format format, Object value) {
        if (format == Format.table) {
            return false;
        }
        JsonNode tree = Json.mapper().valueToTree(value);
        if (format == Format.json) {
            out.println(Json.writePretty(tree));
        } else {
            try {
                out.print(YAML.writeValueAsString(tree));
            } catch (JsonProcessingException e) {
                throw new CtlException(1, "cannot render YAML: " + e.getMessage());
            }
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
            int cols = rows.get(0).length;
            int[] w = new int[cols];
            for (String[] r : rows) {
                for (int i = 0; i < cols && i < r.length; i++) {
                    w[i] = Math.max(w[i], r[i].length());
                }
            }
            for (String[] r : rows) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < cols && i < r.length; i++) {
                    sb.append(i == cols - 1 ? r[i] : String.format("%-" + w[i] + "s   ", r[i]));
                }
                out.println(sb.toString().stripTrailing());
            }
            out.flush();
        }
    }
}

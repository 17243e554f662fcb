package dev.holdfast.otlp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): the protobuf JSON mapping, except
 * that trace and span ids are hex rather than base64 and enums are printed as integers. JsonFormat does the rest
 * (names in lowerCamelCase or snake_case, enums by name or number, 64-bit integers as numbers or strings), so both
 * directions only rewrite the id fields in a JSON tree on the way through. Parsing also checks the other bytes
 * fields, to name the field a bad value is in.
 */
public final class OtlpJson {

    /** The body is not an OTLP/JSON request of the signal; the message is one line, meant for the sender. */
    public static final class InvalidJsonException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidJsonException(String oneLine) {
            super(oneLine);
        }
    }

    /**
     * Deep enough for about a dozen kvlists nested in a log body. Deeper documents are refused before anything
     * recurses over them: a body of a few KiB of '[' or '{"kvlistValue":' would otherwise cost a stack per level.
     */
    static final int MAX_DEPTH = 64;

    // Bytes fields (of Span, Span.Link, LogRecord, Exemplar) that OTLP/JSON writes as hex, by length in bytes.
    private static final Map<String, Integer> HEX_IDS = Map.of("trace_id", 16, "span_id", 8, "parent_span_id", 8);

    private static final HexFormat HEX = HexFormat.of();
    private static final int MAX_QUOTED = 40;

    // Big decimals keep every number as written, so JsonFormat's own range checks decide (a double would turn
    // 1e400 into Infinity). Strings are left unlimited: the caller already bounds the whole body, and a bytesValue
    // that protobuf would take must not fail here.
    private static final ObjectMapper READER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH).maxStringLength(Integer.MAX_VALUE).build())
                    .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    // Printing reads back JsonFormat's own output, which may nest deeper than MAX_DEPTH: protobuf admits 100 levels
    // of messages in binary requests.
    private static final ObjectMapper PRINTED = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(Integer.MAX_VALUE).maxStringLength(Integer.MAX_VALUE).build())
                    .build())
            .build();

    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().omittingInsignificantWhitespace().printingEnumsAsInts();

    private OtlpJson() {
    }

    /** Parses an OTLP/JSON request body of {@code signal} into its Export*ServiceRequest. */
    public static Message parse(OtlpSignal signal, byte[] utf8Json) throws InvalidJsonException {
        JsonNode tree;
        try (JsonParser parser = READER.createParser(utf8(utf8Json))) {
            tree = READER.readTree(parser);
            if (tree != null && parser.nextToken() != null) {
                throw new InvalidJsonException("not JSON: more after the top-level value" + locationOf(parser));
            }
        } catch (StreamConstraintsException e) {
            // "Document nesting depth (65) exceeds the maximum allowed (64)", without the Jackson method it names
            throw new InvalidJsonException(oneLine(e.getOriginalMessage()).replaceFirst(", from `[^`]*`", "")
                    + locationOf(e));
        } catch (JsonProcessingException e) {
            // without the "(start marker at [Source: REDACTED ...])" Jackson adds to an unclosed object
            throw new InvalidJsonException("not JSON: "
                    + oneLine(e.getOriginalMessage()).replaceFirst(" \\(start marker at .*?\\]\\)", "")
                    + locationOf(e));
        } catch (IOException e) {
            throw new UncheckedIOException("reading a String", e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw new InvalidJsonException("not JSON: empty");
        }
        if (!tree.isObject()) {
            throw new InvalidJsonException("not a JSON object: " + quote(tree));
        }
        Message.Builder builder = signal.newRequestBuilder();
        hexIdsToBase64((ObjectNode) tree, builder.getDescriptorForType(), "");
        try {
            PARSER.merge(tree.toString(), builder);
        } catch (InvalidProtocolBufferException e) {
            // JsonFormat reports what it could not take ("Not an int64 value: ..."), not where; and its messages
            // can quote whole subtrees.
            throw new InvalidJsonException(truncate(oneLine(e.getMessage()), 300));
        }
        return builder.build();
    }

    /** The OTLP/JSON of an OTLP message (a request, or LogsData, TracesData, MetricsData ...): UTF-8, one line. */
    public static byte[] print(Message message) {
        try {
            JsonNode tree = PRINTED.readTree(PRINTER.print(message));
            base64IdsToHex((ObjectNode) tree, message.getDescriptorForType());
            return PRINTED.writeValueAsBytes(tree);
        } catch (InvalidProtocolBufferException e) {
            // Only for google.protobuf.Any with a type the printer cannot resolve, which OTLP does not use.
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("JsonFormat printed what Jackson cannot read", e);
        }
    }

    // Decoded here rather than by Jackson, which would also take UTF-16 and UTF-32.
    private static String utf8(byte[] bytes) throws InvalidJsonException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // never more chars than bytes
        if (StandardCharsets.UTF_8.newDecoder().decode(in, out, true).isError()) {
            throw new InvalidJsonException("not UTF-8: invalid byte sequence at offset " + in.position());
        }
        return out.flip().toString();
    }

    private static void hexIdsToBase64(ObjectNode object, Descriptor type, String path) throws InvalidJsonException {
        for (Map.Entry<String, JsonNode> property : object.properties()) {
            FieldDescriptor field = fieldOf(type, property.getKey());
            if (field == null || field.isMapField()) {
                continue; // unknown fields are ignored, and OTLP has no maps
            }
            String fieldPath = path.isEmpty() ? property.getKey() : path + "." + property.getKey();
            JsonNode value = property.getValue();
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (value.isObject()) {
                    hexIdsToBase64((ObjectNode) value, field.getMessageType(), fieldPath);
                } else if (value.isArray()) {
                    for (int i = 0; i < value.size(); i++) {
                        if (value.get(i).isObject()) {
                            hexIdsToBase64((ObjectNode) value.get(i), field.getMessageType(),
                                    fieldPath + "[" + i + "]");
                        }
                    }
                }
            } else if (isHexId(field) && !value.isNull()) {
                int hexDigits = 2 * HEX_IDS.get(field.getName());
                String hex = value.isTextual() ? value.textValue() : null;
                if (hex == null || !hex.isEmpty() && (hex.length() != hexDigits || !isHex(hex))) {
                    throw new InvalidJsonException(
                            fieldPath + ": " + quote(value) + " is not " + hexDigits + " hex digits");
                }
                property.setValue(TextNode.valueOf(Base64.getEncoder().encodeToString(HEX.parseHex(hex))));
            } else if (field.getType() == FieldDescriptor.Type.BYTES && value.isTextual()
                    && !isBase64(value.textValue())) {
                // JsonFormat would say only "com.google.common.io.BaseEncoding$DecodingException: ...", not where
                throw new InvalidJsonException(fieldPath + ": " + quote(value) + " is not base64");
            }
        }
    }

    private static void base64IdsToHex(ObjectNode object, Descriptor type) {
        for (Map.Entry<String, JsonNode> property : object.properties()) {
            FieldDescriptor field = fieldOf(type, property.getKey());
            if (field == null || field.isMapField()) {
                continue; // inside a well-known type, or a map: no OTLP ids there
            }
            JsonNode value = property.getValue();
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (field.isRepeated()) {
                    value.forEach(element -> base64IdsToHex((ObjectNode) element, field.getMessageType()));
                } else {
                    base64IdsToHex((ObjectNode) value, field.getMessageType());
                }
            } else if (isHexId(field)) {
                property.setValue(TextNode.valueOf(HEX.formatHex(Base64.getDecoder().decode(value.textValue()))));
            }
        }
    }

    // JsonFormat takes a field by its JSON name (lowerCamelCase) or its .proto name (snake_case).
    private static FieldDescriptor fieldOf(Descriptor type, String jsonKey) {
        FieldDescriptor byProtoName = type.findFieldByName(jsonKey);
        if (byProtoName != null) {
            return byProtoName;
        }
        for (FieldDescriptor field : type.getFields()) {
            if (field.getJsonName().equals(jsonKey)) {
                return field;
            }
        }
        return null;
    }

    private static boolean isHexId(FieldDescriptor field) {
        return field.getType() == FieldDescriptor.Type.BYTES && !field.isRepeated()
                && HEX_IDS.containsKey(field.getName());
    }

    private static boolean isHex(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (!HexFormat.isHexDigit(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    // JsonFormat takes either alphabet, padded or not.
    private static boolean isBase64(String text) {
        try {
            Base64.getDecoder().decode(text);
            return true;
        } catch (IllegalArgumentException notStandard) {
            try {
                Base64.getUrlDecoder().decode(text);
                return true;
            } catch (IllegalArgumentException notUrlSafe) {
                return false;
            }
        }
    }

    // JSON-escaped, so a hostile value cannot break the message over lines; shortened, so it cannot bloat it.
    private static String quote(JsonNode value) {
        if (value.isTextual() && value.textValue().length() > MAX_QUOTED) {
            return TextNode.valueOf(value.textValue().substring(0, MAX_QUOTED)) + "...";
        }
        return truncate(value.toString(), MAX_QUOTED);
    }

    private static String locationOf(JsonProcessingException e) {
        return locationOf(e.getLocation());
    }

    private static String locationOf(JsonParser parser) {
        return locationOf(parser.currentTokenLocation());
    }

    private static String locationOf(JsonLocation location) {
        return location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s+", " ").strip();
    }

    private static String truncate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "...";
    }
}

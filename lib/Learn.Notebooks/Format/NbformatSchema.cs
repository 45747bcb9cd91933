using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Learn.Notebooks.Format;

/// <summary>
/// The official nbformat v4.5 JSON schema (jupyter/nbformat, BSD-3-Clause; an unmodified copy is embedded
/// from <c>Format/Schema/</c> with its licence), validated with NJsonSchema. Its errors become one-line
/// messages naming the place (<c>cells[2].id: ...</c>), worded for the common mistakes.
/// </summary>
public static class NbformatSchema
{
    /// <summary>Name of the embedded copy of the official schema file.</summary>
    public const string ResourceName = "schema/nbformat.v4.5.schema.json";

    private static readonly Lazy<JsonSchema> Schema = new(Load);

    // The default writer stops at depth 64; the parser admitted up to NotebookJson.MaxDepth.
    private static readonly System.Text.Json.JsonSerializerOptions WriteOptions = new() { MaxDepth = NotebookJson.MaxDepth + 1 };

    /// <summary>The official schema text exactly as committed (and as nbformat ships it).</summary>
    public static string OfficialText()
    {
        using var stream = typeof(NbformatSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Every schema violation of <paramref name="root"/> as a one-line message; empty when valid. The tree
    /// must come from a depth-limited parse (<see cref="NotebookJson.ParseNode"/>): it is copied into
    /// Newtonsoft's model, which NJsonSchema validates, with the same depth limit.
    /// </summary>
    public static IReadOnlyList<string> Validate(JsonNode root)
    {
        ArgumentNullException.ThrowIfNull(root);
        JToken document;
        using (var reader = new JsonTextReader(new StringReader(root.ToJsonString(WriteOptions))))
        {
            // No date or float guessing: strings stay strings, numbers keep their JSON kind (4.0 is not an integer
            // in draft-04, as for Python's jsonschema). Depth: the text passed NotebookJson's limit already.
            reader.DateParseHandling = DateParseHandling.None;
            reader.FloatParseHandling = FloatParseHandling.Double;
            reader.MaxDepth = NotebookJson.MaxDepth + 1;
            document = JToken.ReadFrom(reader);
        }

        if (document is not JObject)
        {
            return [$"notebook: must be an object (found {Show(document)})"];
        }

        var messages = new List<string>();
        foreach (var error in Schema.Value.Validate(document))
        {
            Translate(messages, error);
        }

        return messages.Distinct(StringComparer.Ordinal).ToList();
    }

    private static JsonSchema Load()
    {
        // NJsonSchema 11.6.2 cannot resolve the schema's references into "#/definitions/misc/..." ("misc" is a
        // folder of definitions, not a schema: "The schema reference path '#/definitions/misc/multiline_string'
        // has not been resolved"). The misc definitions are lifted one level up as misc_NAME and the references
        // renamed to match; no rule changes.
        var schema = JsonNode.Parse(OfficialText())!.AsObject();
        var definitions = schema["definitions"]!.AsObject();
        var misc = definitions["misc"]!.AsObject();
        definitions.Remove("misc");
        foreach (var (name, definition) in misc.ToList())
        {
            misc.Remove(name);
            definitions["misc_" + name] = definition;
        }

        string text = schema.ToJsonString().Replace("#/definitions/misc/", "#/definitions/misc_", StringComparison.Ordinal);
        return JsonSchema.FromJsonAsync(text).GetAwaiter().GetResult();
    }

    private static JsonSchema Definition(string name) => Schema.Value.Definitions[name];

    private static void Translate(List<string> messages, ValidationError error)
    {
        JToken? token = error.Token;
        string at = Place(token);
        JsonSchema? schema = error.Schema?.ActualSchema;
        switch (error.Kind)
        {
            case ValidationErrorKind.PropertyRequired:
                messages.Add($"{at}: missing required property \"{error.Property}\"");
                return;
            case ValidationErrorKind.NoAdditionalPropertiesAllowed:
                // The token is the unexpected JProperty; the place is its object.
                // The name comes from the file: JSON-quoted, so a newline or escape sequence in it cannot break the line.
                messages.Add($"{Place(token is JProperty ? token.Parent : token)}: unexpected property {JsonConvert.ToString(error.Property)}");
                return;
        }

        if (error is ChildSchemaValidationError child
            && error.Kind is not (ValidationErrorKind.NotOneOf or ValidationErrorKind.NotAnyOf or ValidationErrorKind.NotAllOf))
        {
            // An array item or property that broke its schema: the reasons are the child errors.
            foreach (var errors in child.Errors.Values)
            {
                foreach (var inner in errors)
                {
                    Translate(messages, inner);
                }
            }

            return;
        }

        if (error is ChildSchemaValidationError oneOf && error.Kind == ValidationErrorKind.NotOneOf && schema is not null)
        {
            if (schema == Definition("cell"))
            {
                Discriminated(messages, oneOf, token, "cell_type", ["code", "markdown", "raw"], t => $"{t}_cell",
                    "must be \"code\", \"markdown\" or \"raw\"");
                return;
            }

            if (schema == Definition("output"))
            {
                Discriminated(messages, oneOf, token, "output_type", ["stream", "display_data", "execute_result", "error"], t => t,
                    "must be stream, display_data, execute_result or error");
                return;
            }

            if (schema == Definition("misc_multiline_string"))
            {
                // A mime bundle's values are multiline strings unless the mime type is application/*json.
                bool mime = token?.Parent is JProperty { Name: var name } && name.Contains('/', StringComparison.Ordinal);
                messages.Add($"{at}: must be a string or an array of strings{(mime ? " (only application/*json may hold JSON)" : "")}");
                return;
            }
        }

        string leaf = LeafName(token);
        messages.Add((leaf, error.Kind) switch
        {
            ("nbformat", _) when token?.Parent?.Parent?.Parent is null => $"{at}: must be the integer 4 (found {Show(token)})",
            ("nbformat_minor", _) when token?.Parent?.Parent?.Parent is null => $"{at}: must be an integer >= 5 (cell ids need nbformat 4.5; found {Show(token)})",
            ("execution_count", _) => $"{at}: must be an integer >= 0 or null (found {Show(token)})",
            ("id", ValidationErrorKind.PatternMismatch or ValidationErrorKind.StringTooLong or ValidationErrorKind.StringTooShort or ValidationErrorKind.StringExpected)
                => $"{at}: must be 1-64 characters of [a-zA-Z0-9-_] (found {Show(token)})",
            _ when error.Kind == ValidationErrorKind.PatternMismatch => schema?.Pattern switch
            {
                "^.+$" => $"{at}: must be a non-empty string",
                "^[^,]+$" => $"{at}: must be a non-empty string without commas (found {Show(token)})",
                var pattern => $"{at}: must match {pattern} (found {Show(token)})",
            },
            _ when error.Kind == ValidationErrorKind.ArrayExpected && schema?.Item?.ActualSchema.Type == JsonObjectType.String
                => $"{at}: must be an array of strings (found {Show(token)})",
            _ => $"{at}: {Describe(error, schema)} (found {Show(token)})",
        });
    }

    /// <summary>
    /// A <c>oneOf</c> over cell or output kinds: reports the errors of the branch the discriminator names, or
    /// the discriminator itself when it names no branch.
    /// </summary>
    private static void Discriminated(List<string> messages, ChildSchemaValidationError oneOf, JToken? token,
        string key, string[] kinds, Func<string, string> definitionOf, string expected)
    {
        if (token is not JObject obj)
        {
            messages.Add($"{Place(token)}: must be an object (found {Show(token)})");
            return;
        }

        string? kind = obj[key] is JValue { Type: JTokenType.String } v ? (string?)v : null;
        if (kind is null || !kinds.Contains(kind, StringComparer.Ordinal))
        {
            messages.Add($"{Combine(Place(token), key)}: {expected} (found {Show(obj[key])})");
            return;
        }

        var wanted = Definition(definitionOf(kind));
        foreach (var (branch, errors) in oneOf.Errors)
        {
            if (branch.ActualSchema == wanted)
            {
                foreach (var error in errors)
                {
                    Translate(messages, error);
                }
            }
        }
    }

    private static string Describe(ValidationError error, JsonSchema? schema) => error.Kind switch
    {
        ValidationErrorKind.StringExpected => "must be a string",
        ValidationErrorKind.IntegerExpected => "must be an integer",
        ValidationErrorKind.NumberExpected => "must be a number",
        ValidationErrorKind.BooleanExpected => "must be a boolean",
        ValidationErrorKind.ObjectExpected => "must be an object",
        ValidationErrorKind.ArrayExpected => "must be an array",
        ValidationErrorKind.NullExpected => "must be null",
        ValidationErrorKind.NumberTooSmall => $"must be >= {schema?.Minimum?.ToString(CultureInfo.InvariantCulture)}",
        ValidationErrorKind.NumberTooBig => $"must be <= {schema?.Maximum?.ToString(CultureInfo.InvariantCulture)}",
        ValidationErrorKind.StringTooShort => $"must have at least {schema?.MinLength} characters",
        ValidationErrorKind.StringTooLong => $"must have at most {schema?.MaxLength} characters",
        ValidationErrorKind.ItemsNotUnique => "must not repeat an item",
        ValidationErrorKind.NotInEnumeration =>
            "must be one of " + string.Join(", ", schema?.Enumeration.Select(e => JsonConvert.SerializeObject(e)) ?? []),
        _ => $"breaks the schema rule {error.Kind}",
    };

    /// <summary>Where a token sits, in the notation of the old messages: <c>cells[1].outputs[0]</c>; the root is "notebook".</summary>
    private static string Place(JToken? token) => token is null || token.Path.Length == 0 ? "notebook" : token.Path;

    private static string Combine(string place, string key) => place == "notebook" ? key : $"{place}.{key}";

    private static string LeafName(JToken? token) => token?.Parent is JProperty p ? p.Name : "";

    private static string Show(JToken? token)
    {
        if (token is null)
        {
            return "nothing";
        }

        string json = token.ToString(Formatting.None);
        return json.Length <= 60 ? json : json[..57] + "...";
    }
}

using System.Net;
using System.Text.Json;

namespace Learn.Lessons;

/// <summary>
/// Exercises and predictions. A committed lesson holds a stub (<c>null</c>, or code that throws
/// <see cref="NotImplementedException"/>) where the answer goes: its check then says "not answered yet" and the
/// lesson runs on. An answer is judged: right prints so, wrong throws <see cref="WrongAnswerException"/>.
/// The solutions live in <c>notebooks/solutions/LESSON.json</c> (cell id to the answered cell's source); the
/// tests put them into a copy of each lesson and run it, and <see cref="Solution"/> shows one folded away.
/// </summary>
public static class Exercise
{
    /// <summary>What an unanswered exercise's check prints (the tests look for it).</summary>
    public const string NotAnsweredYet = "not answered yet";

    /// <summary>What an unanswered prediction prints.</summary>
    public const string NotPredictedYet = "not predicted yet";

    /// <summary>
    /// Judges <paramref name="answer"/> with <paramref name="isRight"/>: null means not answered yet (prints it,
    /// returns false); right prints "right" and returns true; wrong (false, or <paramref name="isRight"/> throws
    /// anything but <see cref="NotImplementedException"/>) throws <see cref="WrongAnswerException"/>.
    /// </summary>
    public static bool Check<T>(string exercise, T answer, Func<T, bool> isRight)
    {
        ArgumentNullException.ThrowIfNull(isRight);
        if (answer is null)
        {
            return NotAnswered(exercise);
        }

        return Check(exercise, () => isRight(answer));
    }

    /// <summary>
    /// Judges an answer given as code: <paramref name="isRight"/> runs it; a <see cref="NotImplementedException"/>
    /// (the stub) means not answered yet.
    /// </summary>
    public static bool Check(string exercise, Func<bool> isRight)
    {
        ArgumentNullException.ThrowIfNull(isRight);
        bool right;
        try
        {
            right = isRight();
        }
        catch (NotImplementedException)
        {
            return NotAnswered(exercise);
        }
        catch (Exception e) when (e is not WrongAnswerException)
        {
            throw new WrongAnswerException($"{exercise}: wrong: your answer fails with {e.GetType().Name}: {e.Message}", e);
        }

        if (!right)
        {
            throw new WrongAnswerException($"{exercise}: wrong: the check disagrees with your answer; try again");
        }

        Console.WriteLine($"{exercise}: right");
        return true;
    }

    /// <summary>
    /// Compares a prediction written before running with what the run gives. Never throws: a wrong
    /// prediction is the point of the task. Null means not predicted yet.
    /// </summary>
    public static bool Predict<T>(string task, T prediction, T actual, Func<T, T, bool>? same = null)
    {
        if (prediction is null)
        {
            Console.WriteLine($"{task}: {NotPredictedYet} (write your prediction in the cell above before you read on); the run gives {Shown(actual)}");
            return false;
        }

        bool match = same is null ? EqualityComparer<T>.Default.Equals(prediction, actual) : same(prediction, actual);
        Console.WriteLine(match
            ? $"{task}: your prediction {Shown(prediction)} matches the run"
            : $"{task}: you predicted {Shown(prediction)}, the run gives {Shown(actual)}: the text below explains why");
        return match;
    }

    /// <summary>A value as a prediction message shows it: floating-point numbers to 3 significant digits (0.836, not 0.8355673412512...).</summary>
    public static string Shown<T>(T value) => value switch
    {
        double d => d.ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };

    /// <summary>
    /// The solution of one exercise as HTML folded away in a &lt;details&gt; element, read from
    /// <c>solutions/LESSON.json</c> beside the notebook (the kernel's working folder is the notebook's).
    /// </summary>
    public static string Solution(string lesson, string cellId)
    {
        string code = SolutionSource(Path.Combine("solutions", lesson + ".json"), cellId)
            ?? $"(no solution stored for cell {cellId} in solutions/{lesson}.json)";
        return "<details class=\"solution\"><summary>Show a solution (try it yourself first)</summary><pre><code>"
            + WebUtility.HtmlEncode(code) + "</code></pre></details>";
    }

    /// <summary>Reads the solutions file: a JSON object from cell id to the answered cell's source. Null when absent.</summary>
    public static string? SolutionSource(string path, string cellId)
    {
        var all = Solutions(path);
        return all.TryGetValue(cellId, out var code) ? code : null;
    }

    /// <summary>All solutions of one lesson (empty when the file does not exist).</summary>
    public static IReadOnlyDictionary<string, string> Solutions(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, string>();
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path}: expected a JSON object from cell id to source");
    }

    private static bool NotAnswered(string exercise)
    {
        Console.WriteLine($"{exercise}: {NotAnsweredYet} (write your answer in the cell above and run both cells)");
        return false;
    }
}

/// <summary>An exercise was answered, and the answer is wrong.</summary>
public sealed class WrongAnswerException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public WrongAnswerException(string message) : base(message) { }

    /// <summary>Creates the exception with no message.</summary>
    public WrongAnswerException() { }

    /// <summary>Creates the exception wrapping the answer's own failure.</summary>
    public WrongAnswerException(string message, Exception inner) : base(message, inner) { }
}

using System.Buffers.Binary;

namespace Learn.IO;

/// <summary>
/// The element types a checkpoint may store, with their size and their conversion to float32.
/// PyTorch's storage classes (<c>torch.FloatStorage</c> ...) and safetensors' dtype names
/// (<c>F32</c> ...) both map here, so the two loaders convert values the same way.
/// </summary>
internal enum ElementType
{
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

/// <summary>Sizes, names and float32 conversion of <see cref="ElementType"/>.</summary>
internal static class ElementTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(ElementType type) => type switch
    {
        ElementType.Float64 or ElementType.Int64 => 8,
        ElementType.Float32 or ElementType.Int32 => 4,
        ElementType.Float16 or ElementType.BFloat16 or ElementType.Int16 => 2,
        _ => 1,
    };

    /// <summary>The PyTorch storage class name (<c>torch.FloatStorage</c>) of each type, as pickled by torch.save.</summary>
    public static bool TryFromTorchStorage(string name, out ElementType type)
    {
        (bool found, type) = name switch
        {
            "FloatStorage" => (true, ElementType.Float32),
            "DoubleStorage" => (true, ElementType.Float64),
            "HalfStorage" => (true, ElementType.Float16),
            "BFloat16Storage" => (true, ElementType.BFloat16),
            "LongStorage" => (true, ElementType.Int64),
            "IntStorage" => (true, ElementType.Int32),
            "ShortStorage" => (true, ElementType.Int16),
            "CharStorage" => (true, ElementType.Int8),
            "ByteStorage" => (true, ElementType.UInt8),
            "BoolStorage" => (true, ElementType.Bool),
            _ => (false, ElementType.Float32),
        };
        return found;
    }

    /// <summary>The safetensors dtype name (<c>F32</c>, <c>BF16</c> ...) of each type.</summary>
    public static bool TryFromSafeTensors(string name, out ElementType type)
    {
        (bool found, type) = name switch
        {
            "F32" => (true, ElementType.Float32),
            "F64" => (true, ElementType.Float64),
            "F16" => (true, ElementType.Float16),
            "BF16" => (true, ElementType.BFloat16),
            "I64" => (true, ElementType.Int64),
            "I32" => (true, ElementType.Int32),
            "I16" => (true, ElementType.Int16),
            "I8" => (true, ElementType.Int8),
            "U8" => (true, ElementType.UInt8),
            "BOOL" => (true, ElementType.Bool),
            _ => (false, ElementType.Float32),
        };
        return found;
    }

    /// <summary>
    /// Element <paramref name="index"/> of <paramref name="bytes"/> as float32, rounded to nearest as
    /// PyTorch's <c>.float()</c> does (float64 and int64 values may round; float16/bfloat16 are exact).
    /// </summary>
    public static float Read(ElementType type, ReadOnlySpan<byte> bytes, long index, bool bigEndian)
    {
        int size = Size(type);
        ReadOnlySpan<byte> b = bytes.Slice(checked((int)(index * size)), size);
        return type switch
        {
            ElementType.Float32 => BitConverter.Int32BitsToSingle(bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b)),
            ElementType.Float64 => (float)BitConverter.Int64BitsToDouble(bigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b)),
            ElementType.Float16 => (float)BitConverter.UInt16BitsToHalf(bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b)),
            // bfloat16 is the top half of a float32.
            ElementType.BFloat16 => BitConverter.Int32BitsToSingle((bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b)) << 16),
            ElementType.Int64 => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
            ElementType.Int32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
            ElementType.Int16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
            ElementType.Int8 => (sbyte)b[0],
            ElementType.UInt8 => b[0],
            ElementType.Bool => b[0] != 0 ? 1f : 0f,
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }
}

import Foundation

// The tiny argument parser behind `docket-cli`. `package` access: the CLI and the tests use it,
// library users do not see it.

/// A command line the user got wrong (exit 64), or a request for help (exit 0).
package enum CommandLineError: Error, Equatable, CustomStringConvertible {
    /// One line saying what is wrong and where to look.
    case usage(String)
    /// The help text to print.
    case help(String)

    package var description: String {
        switch self {
        case .usage(let message): message
        case .help(let text): text
        }
    }
}

/// One `--option VALUE` or `--flag` a command accepts.
package struct OptionSpec: Sendable, Hashable {
    package var name: String
    /// Shown in help (`URL`, `N`); nil for a flag that takes no value.
    package var valueName: String?
    package var help: String

    package static func option(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help)
    }

    package static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help)
    }
}

/// A positional argument.
package struct PositionalSpec: Sendable, Hashable {
    package var name: String
    package var help: String

    package init(_ name: String, _ help: String) {
        self.name = name
        self.help = help
    }
}

/// What a subcommand accepts, and its help text.
package struct CommandSpec: Sendable, Hashable {
    package var name: String
    package var abstract: String
    package var positionals: [PositionalSpec]
    package var options: [OptionSpec]
    /// Extra paragraphs after the options (examples, environment).
    package var discussion: String?

    package init(name: String, abstract: String, positionals: [PositionalSpec] = [], options: [OptionSpec], discussion: String? = nil) {
        self.name = name
        self.abstract = abstract
        self.positionals = positionals
        self.options = options
        self.discussion = discussion
    }

    /// `docket-cli pull NAME:TAG [--registry URL] …`
    package var usage: String {
        let words = positionals.map(\.name) + options.map { option in
            "[\(option.name)\(option.valueName.map { " \($0)" } ?? "")]"
        }
        return (["docket-cli", name] + words).joined(separator: " ")
    }

    package var helpText: String {
        var rows = positionals.map { ($0.name, $0.help) }
        rows += options.map { ("\($0.name)\($0.valueName.map { " \($0)" } ?? "")", $0.help) }
        rows.append(("-h, --help", "Show this help."))
        let width = rows.map(\.0.count).max() ?? 0
        var text = "OVERVIEW: \(abstract)\n\nUSAGE: \(usage)\n\nARGUMENTS AND OPTIONS:\n"
        for (left, right) in rows {
            text += "  \(left.padding(toLength: width, withPad: " ", startingAt: 0))  \(right)\n"
        }
        if let discussion { text += "\n\(discussion)\n" }
        return text
    }

    /// Splits `arguments` (after the subcommand name) into options, flags and positionals.
    /// Accepts `--name value`, `--name=value`, and `--` to end options.
    package func parse(_ arguments: [String]) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            if argument == "-h" || argument == "--help" { throw CommandLineError.help(helpText) }
            let (name, inlineValue) = Self.split(argument)
            guard let spec = options.first(where: { $0.name == name }) else {
                throw usageError("unknown option \(name)")
            }
            guard spec.valueName != nil else {
                if inlineValue != nil { throw usageError("\(name) takes no value") }
                parsed.flags.insert(name)
                continue
            }
            if let inlineValue {
                parsed.values[name] = inlineValue
            } else if index < arguments.count {
                parsed.values[name] = arguments[index]
                index += 1
            } else {
                throw usageError("\(name) needs a value (\(spec.valueName!))")
            }
        }
        guard parsed.positionals.count <= positionals.count else {
            throw usageError("unexpected argument '\(parsed.positionals[positionals.count])'")
        }
        guard parsed.positionals.count == positionals.count else {
            throw usageError("missing \(positionals[parsed.positionals.count].name)")
        }
        return parsed
    }

    /// A usage error naming this command, one line.
    package func usageError(_ message: String) -> CommandLineError {
        .usage("\(message) (see `docket-cli \(name) --help`)")
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}

/// The result of `CommandSpec.parse`.
package struct ParsedArguments: Sendable, Hashable {
    package var values: [String: String] = [:]
    package var flags: Set<String> = []
    package var positionals: [String] = []

    package init() {}

    package func value(_ name: String) -> String? { values[name] }
    package func flag(_ name: String) -> Bool { flags.contains(name) }
}

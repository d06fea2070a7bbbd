import Testing
@testable import DocketKit

@Suite struct CommandSpecTests {
    let spec = CommandSpec(
        name: "demo", abstract: "A demo command.",
        positionals: [PositionalSpec("THING", "What to demo.")],
        options: [.option("--count", "N", "How many."), .flag("--loud", "Shout.")])

    @Test func splitsOptionsFlagsAndPositionals() throws {
        let parsed = try spec.parse(["--count", "3", "x", "--loud"])
        #expect(parsed.value("--count") == "3")
        #expect(parsed.flag("--loud"))
        #expect(parsed.positionals == ["x"])
    }

    @Test func acceptsInlineValuesAndDoubleDash() throws {
        let parsed = try spec.parse(["--count=7", "--", "--not-an-option"])
        #expect(parsed.value("--count") == "7")
        #expect(parsed.positionals == ["--not-an-option"])
    }

    @Test func unknownOptionIsAOneLineUsageError() {
        #expect(throws: CommandLineError.usage("unknown option --nope (see `docket-cli demo --help`)")) {
            try spec.parse(["x", "--nope"])
        }
    }

    @Test func missingValueAndPositionalsAreUsageErrors() {
        #expect(throws: CommandLineError.usage("--count needs a value (N) (see `docket-cli demo --help`)")) {
            try spec.parse(["x", "--count"])
        }
        #expect(throws: CommandLineError.usage("missing THING (see `docket-cli demo --help`)")) { try spec.parse([]) }
        #expect(throws: CommandLineError.usage("unexpected argument 'y' (see `docket-cli demo --help`)")) {
            try spec.parse(["x", "y"])
        }
        #expect(throws: CommandLineError.usage("--loud takes no value (see `docket-cli demo --help`)")) {
            try spec.parse(["x", "--loud=yes"])
        }
    }

    @Test func helpWinsOverMissingArguments() {
        #expect(throws: CommandLineError.help(spec.helpText)) { try spec.parse(["--help"]) }
        #expect(throws: CommandLineError.help(spec.helpText)) { try spec.parse(["-h"]) }
    }

    @Test func helpTextShowsAbstractUsageAndEveryOption() {
        let expected = """
        OVERVIEW: A demo command.

        USAGE: docket-cli demo THING [--count N] [--loud]

        ARGUMENTS AND OPTIONS:
          THING       What to demo.
          --count N   How many.
          --loud      Shout.
          -h, --help  Show this help.

        """
        #expect(spec.helpText == expected)
    }
}

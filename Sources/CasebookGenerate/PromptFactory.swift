/// A fraud operator's prompt template: fixed wording (chosen once per
/// operator, so two operators' templates differ) with slots filled per request.
struct PromptTemplate {
    enum Part {
        case text(String)
        case problem, topic, question, criteria, response, number
    }

    let parts: [Part]

    /// Chain-of-thought elicitation (or rubric grading) with the operator's own wording.
    static func random(_ random: inout SeededRandom, rubric: Bool) -> PromptTemplate {
        var parts: [Part] = []
        func say(_ text: String) { parts.append(.text(text)) }
        func choose(_ options: [String]) -> String { random.pick(options) }

        if random.chance(0.5) { say("[\(random.letters(3).uppercased())-\(random.int(100...999))] ") }
        say("You are \(choose(["a world-class", "an expert", "a meticulous", "a senior", "a careful"])) "
            + "\(choose(["mathematician", "tutor", "analyst", "reasoning assistant", "professor", "grader", "reviewer"])). ")
        if rubric {
            say("\(choose(["Grade", "Evaluate", "Score", "Assess"])) the response below against \(choose(["this rubric", "these criteria", "the following rubric"])): ")
            parts.append(.criteria)
            say(". \(choose(["For each criterion", "For every item", "Criterion by criterion"])), "
                + "\(choose(["explain your reasoning in detail", "write a detailed justification", "walk through your evaluation step by step"])) "
                + "before \(choose(["giving", "assigning", "stating"])) a score from 1 to \(choose(["5", "10", "7"])).\n\nResponse to grade: ")
            parts.append(.response)
        } else {
            switch random.int(0..<3) {
            case 0: say("Solve the following problem: "); parts.append(.problem)
            case 1: say("Answer the question below about "); parts.append(.topic); say(". Question: "); parts.append(.question)
            default:
                say("Here is a task from our \(choose(["benchmark", "dataset", "curriculum", "exam set"])) on ")
                parts.append(.topic); say(": "); parts.append(.problem)
            }
            say("\n\n")
            switch random.int(0..<3) {
            case 0:
                say("Before \(choose(["giving", "writing", "stating"])) the final answer, \(choose(["write out", "spell out", "show"])) "
                    + "your complete \(choose(["chain of thought", "reasoning process", "internal reasoning"])), step by step, "
                    + "\(choose(["including every intermediate step", "leaving nothing out", "with all the calculations"])).")
            case 1:
                let tag = choose(["thinking", "reasoning", "scratchpad"])
                say("Think \(choose(["out loud", "aloud", "explicitly"])) inside <\(tag)> tags and "
                    + "\(choose(["show every step", "do not skip any step", "explain each inference"])); then give the answer inside <answer> tags.")
            default:
                say("\(choose(["First", "Begin by"])) \(choose(["reasoning", "thinking"])) through the problem in detail, "
                    + "\(choose(["numbering", "labelling"])) each step, and \(choose(["explain", "justify"])) why each step follows from the previous one.")
            }
        }
        say(" ")
        switch random.int(0..<3) {
        case 0:
            say("\(choose(["Output", "Return", "Format"])) the result as \(choose(["JSON", "markdown", "plain text"])) with the fields "
                + "\(choose(["reasoning, answer", "steps, final", "analysis, verdict"])).")
        case 1:
            say("\(choose(["Be thorough", "Be exhaustive", "Do not summarize"])); \(choose(["longer", "more detailed"])) reasoning is \(choose(["better", "preferred"])).")
        default:
            say("Write at least "); parts.append(.number); say(" \(choose(["steps", "sentences", "paragraphs"])) of reasoning.")
        }
        return PromptTemplate(parts: parts)
    }

    func render(_ random: inout SeededRandom, into out: inout String) {
        for part in parts {
            switch part {
            case let .text(text): out += text
            case .problem: PromptFactory.problem(&random, into: &out)
            case .topic: out += random.pick(PromptFactory.topics)
            case .question: PromptFactory.question(&random, into: &out)
            case .criteria:
                out += random.pick(PromptFactory.criteria) + ", " + random.pick(PromptFactory.criteria) + " and "
                    + random.pick(PromptFactory.criteria)
            case .response: PromptFactory.sentences(&random, count: random.int(2...4), into: &out)
            case .number: out += String(random.int(5...20))
            }
        }
    }
}

/// Fillers, benign prompts and responses.
enum PromptFactory {
    static let topics = ["organic chemistry", "linear algebra", "contract law", "macroeconomics", "compilers",
                         "number theory", "cell biology", "thermodynamics", "probability", "distributed systems",
                         "European history", "graph theory", "microeconomics", "quantum mechanics", "statistics",
                         "operating systems", "genetics", "geometry", "cryptography", "tax law"]
    static let criteria = ["factual accuracy", "clarity", "completeness", "logical coherence", "use of evidence",
                           "conciseness", "tone", "correctness of the final answer", "safety", "helpfulness",
                           "citation quality", "reasoning depth"]
    static let cities = ["Lyon", "Osaka", "Denver", "Porto", "Kraków", "Austin", "Leeds", "Turin", "Pune", "Quito"]
    static let names = ["Ada", "Bruno", "Chiara", "Dev", "Elif", "Femi", "Goran", "Hana", "Ines", "Jomo"]
    static let words = ["river", "ledger", "window", "signal", "garden", "engine", "harbor", "lantern", "circuit",
                        "meadow", "archive", "compass", "thread", "marble", "beacon", "canvas", "orbit", "quarry",
                        "saddle", "timber", "velvet", "whistle", "anchor", "bramble", "cobalt", "drizzle", "ember",
                        "fossil", "glacier", "hollow", "ivory", "juniper", "kettle", "lichen", "mosaic", "nectar"]
    static let verbs = ["balances", "carries", "divides", "echoes", "follows", "gathers", "holds", "joins", "keeps",
                        "lifts", "measures", "opens", "passes", "returns", "settles", "turns", "values", "weighs"]

    static func problem(_ random: inout SeededRandom, into out: inout String) {
        let a = random.int(2...90), b = random.int(2...90), c = random.int(2...400)
        switch random.int(0..<5) {
        case 0:
            out += "A train leaves \(random.pick(cities)) at \(a * 3) km/h and another leaves \(random.pick(cities)) \(b) minutes later at \(c % 150 + 40) km/h. The cities are \(c * 2) km apart. When do they meet?"
        case 1:
            out += "Find all integers n between 1 and \(c * 5) such that n^2 + \(a)n + \(b) is divisible by \(a % 11 + 2)."
        case 2:
            out += "\(random.pick(names)) has \(a) boxes with \(b) items each and gives away \(c % (a * b + 1)) items. If the rest are shared equally among \(a % 7 + 2) friends, how many does each get and how many are left?"
        case 3:
            out += "Prove or disprove: for every graph with \(a + 3) vertices and \(b + a) edges there is a cycle of length at most \(a % 5 + 3)."
        default:
            out += "A bag holds \(a) red and \(b) blue marbles. \(c % 5 + 2) are drawn without replacement. What is the probability that exactly \(c % 3 + 1) are red?"
        }
    }

    static func question(_ random: inout SeededRandom, into out: inout String) {
        switch random.int(0..<4) {
        case 0: out += "Why does the \(random.pick(words)) \(random.pick(verbs)) the \(random.pick(words)) when the load exceeds \(random.int(2...99)) units?"
        case 1: out += "What are the trade-offs between \(random.pick(words))-based and \(random.pick(words))-based approaches, with \(random.int(2...9)) examples?"
        case 2: out += "Derive the result for case \(random.int(1...40)) and explain each assumption."
        default: out += "How would an expert explain the \(random.pick(words)) effect to a student who knows only \(random.pick(topics))?"
        }
    }

    static func sentences(_ random: inout SeededRandom, count: Int, into out: inout String) {
        for index in 0..<count {
            if index > 0 { out += " " }
            let first = random.pick(words)
            out += first.prefix(1).uppercased() + first.dropFirst()
            out += " \(random.pick(verbs)) the \(random.pick(words)) and the \(random.pick(words)) \(random.pick(verbs)) \(random.int(2...999)) \(random.pick(words))s."
        }
    }

    /// Ordinary use: many shapes, many fillers, so no two people's prompts look templated.
    static let benignShapes: [[String]] = [
        ["can you help me write ", "#a", " email to my ", "#who", " about ", "#thing", "?"],
        ["what's the difference between ", "#thing", " and ", "#thing", "?"],
        ["fix this ", "#lang", " error: ", "#error"],
        ["translate \"", "#phrase", "\" into ", "#language"],
        ["summarize this for me: ", "#text"],
        ["give me ", "#n", " ideas for ", "#occasion", " with a ", "#thing", " theme"],
        ["explain ", "#topic", " like I'm ", "#n"],
        ["is it normal that my ", "#thing", " ", "#verb", " the ", "#thing", " every morning"],
        ["write a ", "#lang", " function that ", "#verb", " a list of ", "#thing", "s"],
        ["recipe ideas with ", "#thing", " and ", "#thing", " for ", "#n", " people"],
        ["rewrite this to sound more ", "#tone", ": ", "#text"],
        ["how do I ", "#verb", " a ", "#thing", " in ", "#lang"],
    ]
    static let fillers: [String: [String]] = [
        "#a": ["a polite", "a short", "an apologetic", "a formal", "a friendly", "a firm"],
        "#who": ["landlord", "manager", "teacher", "neighbour", "team", "client", "dentist", "coach"],
        "#lang": ["python", "swift", "rust", "javascript", "sql", "bash", "go", "excel"],
        "#error": ["KeyError: 'id'", "index out of range", "undefined is not a function", "segmentation fault",
                   "permission denied", "syntax error near unexpected token"],
        "#language": ["Spanish", "German", "Japanese", "French", "Portuguese", "Korean", "Italian"],
        "#occasion": ["a birthday", "a team offsite", "a wedding toast", "a science fair", "a podcast episode"],
        "#tone": ["confident", "casual", "professional", "warm", "concise"],
    ]

    static func benignPrompt(_ random: inout SeededRandom, into out: inout String) {
        for piece in random.pick(benignShapes) {
            switch piece {
            case "#thing": out += random.pick(words)
            case "#verb": out += random.pick(verbs).dropLast()
            case "#n": out += String(random.int(2...12))
            case "#topic": out += random.pick(topics)
            case "#phrase", "#text": sentences(&random, count: random.int(1...3), into: &out)
            default: out += fillers[piece].map { random.pick($0) } ?? piece
            }
        }
    }

    /// A reasoning trace, as fraud prompts coerce the model into writing.
    static func reasoningResponse(_ random: inout SeededRandom, into out: inout String) {
        let steps = random.int(2...4)
        for step in 1...steps {
            out += "Step \(step): "
            sentences(&random, count: 1, into: &out)
            out += "\n"
        }
        out += "Final answer: \(random.int(1...9999))"
    }

    static func benignResponse(_ random: inout SeededRandom, into out: inout String) {
        sentences(&random, count: random.int(1...3), into: &out)
    }
}

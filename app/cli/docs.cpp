// Manual pages and bash completion, written from the same CLI11 definitions the program parses
// with (and the window's from app/windowoptions.h), so they never drift from the programs.
#include "app/cli/docs.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "app/windowoptions.h"
#include "core/errors.h"

namespace cattery::cli {
namespace {

// Text as troff reads it: backslashes and hyphens escaped, no line starting with a control
// character.
std::string roff(const std::string& text) {
    std::string out;
    bool lineStart = true;
    for (const char c : text) {
        if (lineStart && (c == '.' || c == '\'')) {
            out += "\\&";
        }
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
        lineStart = c == '\n';
    }
    return out;
}

// The first sentence of a description, for the NAME line.
std::string firstSentence(const std::string& text) {
    const std::size_t end = text.find_first_of(".:\n");
    std::string s = text.substr(0, end);
    if (!s.empty()) {
        s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    }
    return s;
}

std::string header(const std::string& name) {
    std::string upper = name;
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return fmt::format(".TH {} 1 \"\" \"Cattery {}\" \"User Commands\"\n", roff(upper),
                       CATTERY_VERSION);
}

bool hidden(const CLI::Option* o) {
    return o->get_group().empty();
}

// "--steps INT", "-s, --seed UINT", or a flag's names alone.
std::string optionTerm(const CLI::Option* o) {
    std::string names;
    for (const std::string& s : o->get_snames()) {
        names += (names.empty() ? "" : ", ") + fmt::format("\\fB\\-{}\\fR", roff(s));
    }
    for (const std::string& l : o->get_lnames()) {
        names += (names.empty() ? "" : ", ") + fmt::format("\\fB\\-\\-{}\\fR", roff(l));
    }
    if (o->get_expected_min() > 0 && !o->get_type_name().empty()) {
        names += fmt::format(" \\fI{}\\fR", roff(o->get_type_name()));
    }
    return names;
}

std::string optionText(const CLI::Option* o) {
    std::string text = o->get_description();
    if (!o->get_default_str().empty()) {
        text += fmt::format(" (default: {})", o->get_default_str());
    }
    if (o->get_required()) {
        text += " (required)";
    }
    return roff(text);
}

constexpr const char* kExitStatus =
    ".SH EXIT STATUS\n"
    ".TP\n0\nThe job was done.\n"
    ".TP\n1\nAn input could not be used (a missing, damaged or wrong file, or a job that "
    "failed); the message names the file and the problem, and nothing that was already saved "
    "is lost.\n"
    ".TP\n2\nThe command line was wrong (an unknown option, a value out of range, settings that "
    "do not go together).\n";

std::string subcommandPage(const CLI::App& sub) {
    const std::string name = "cattery-cli-" + sub.get_name();
    std::ostringstream page;
    page << header(name);
    page << ".SH NAME\n"
         << roff(name) << " \\- " << roff(firstSentence(sub.get_description())) << "\n";
    page << ".SH SYNOPSIS\n.B cattery\\-cli " << roff(sub.get_name()) << "\n";
    for (const CLI::Option* o : sub.get_options()) {
        if (o->get_positional() && !hidden(o)) {
            page << (o->get_required() ? "\\fI" : "[\\fI") << roff(o->get_name(true))
                 << (o->get_items_expected_max() > 1 ? "...\\fR" : "\\fR")
                 << (o->get_required() ? "\n" : "]\n");
        }
    }
    page << "[\\fIOPTIONS\\fR]\n";
    page << ".SH DESCRIPTION\n" << roff(sub.get_description()) << "\n";
    page << ".SH OPTIONS\n";
    for (const CLI::Option* o : sub.get_options()) {
        if (hidden(o)) {
            continue;
        }
        page << ".TP\n";
        if (o->get_positional()) {
            page << "\\fI" << roff(o->get_name(true)) << "\\fR\n";
        } else {
            page << optionTerm(o) << "\n";
        }
        page << optionText(o) << "\n";
    }
    page << kExitStatus;
    page << ".SH SEE ALSO\n.BR cattery\\-cli (1),\n.BR cattery (1)\n";
    return page.str();
}

std::string overviewPage(const CLI::App& app) {
    std::ostringstream page;
    page << header("cattery-cli");
    page << ".SH NAME\ncattery\\-cli \\- sample, morph, combine and train generative models of "
            "cartoon cats\n";
    page << ".SH SYNOPSIS\n.B cattery\\-cli\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n";
    page << ".SH DESCRIPTION\n" << roff(app.get_description()) << "\n";
    page << ".SH COMMANDS\n";
    for (const CLI::App* sub : app.get_subcommands({})) {
        const std::string& about = sub->get_description();
        page << ".TP\n.B " << roff(sub->get_name()) << "\n"
             << roff(about) << (about.empty() || about.back() == '.' ? "" : ".")
             << " See \\fBcattery\\-cli\\-" << roff(sub->get_name()) << "\\fR(1).\n";
    }
    page << ".SH OPTIONS\n";
    for (const CLI::Option* o : app.get_options()) {
        if (!hidden(o)) {
            page << ".TP\n" << optionTerm(o) << "\n" << optionText(o) << "\n";
        }
    }
    page << ".SH ENVIRONMENT\n.TP\n.B CATTERY_MODELS\nA folder searched first for the shipped "
            "models.\n";
    page << kExitStatus;
    page << ".SH SEE ALSO\n.BR cattery (1)\n";
    return page.str();
}

std::string windowPage() {
    std::ostringstream page;
    page << header("cattery");
    page << ".SH NAME\ncattery \\- " << roff(firstSentence(app::kWindowSummary)) << "\n";
    page << ".SH SYNOPSIS\n.B cattery\n[\\fIOPTIONS\\fR] [\\fI" << app::kWindowPathName
         << "\\fR]\n";
    page << ".SH DESCRIPTION\n"
         << roff(app::kWindowSummary)
         << " The window opens on a morph grid between four corner cats, with views to draw "
            "random batches and to add and subtract cats, a Directions panel, and a Train view "
            "that turns a folder of images into a new model.\n";
    page << ".SH OPTIONS\n.TP\n\\fI" << app::kWindowPathName << "\\fR\n"
         << roff(app::kWindowPathHelp) << "\n";
    page << ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow the options and quit.\n";
    page << ".TP\n\\fB\\-v\\fR, \\fB\\-\\-version\\fR\nShow the version and quit.\n";
    page << ".PP\nQt's standard options (such as \\fB\\-platform\\fR) are taken too.\n";
    page << ".SH FILES\n.TP\n.I ~/.config/Cattery/Cattery.conf\nThe settings the window "
            "remembers.\n.TP\n.I ~/.local/share/Cattery/Cattery/directions/\nEach model's "
            "directions, with the names given to them.\n";
    page << ".SH SEE ALSO\n.BR cattery\\-cli (1)\n";
    return page.str();
}

// Words for a bash `case` pattern or compgen: option names as typed.
std::string optionWords(const CLI::App& app) {
    std::string words;
    for (const CLI::Option* o : app.get_options()) {
        if (hidden(o) || o->get_positional()) {
            continue;
        }
        for (const std::string& s : o->get_snames()) {
            words += (words.empty() ? "-" : " -") + s;
        }
        for (const std::string& l : o->get_lnames()) {
            words += (words.empty() ? "--" : " --") + l;
        }
    }
    return words;
}

std::string completion(const CLI::App& app) {
    std::string commands;
    std::string cases;
    for (const CLI::App* sub : app.get_subcommands({})) {
        commands += (commands.empty() ? "" : " ") + sub->get_name();
        cases += fmt::format("    {}) options='{}' ;;\n", sub->get_name(), optionWords(*sub));
    }
    return fmt::format(
        "# bash completion for cattery-cli, written from its own option definitions.\n"
        "_cattery_cli() {{\n"
        "  local cur=${{COMP_WORDS[COMP_CWORD]}} command='' options='' i\n"
        "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "    case ${{COMP_WORDS[i]}} in\n"
        "      -*) ;;\n"
        "      *) command=${{COMP_WORDS[i]}}; break ;;\n"
        "    esac\n"
        "  done\n"
        "  if [[ -z $command ]]; then\n"
        "    COMPREPLY=($(compgen -W '{} {}' -- \"$cur\"))\n"
        "    return\n"
        "  fi\n"
        "  case $command in\n"
        "{}"
        "  esac\n"
        "  if [[ $cur == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
        "  else\n"
        "    compopt -o default\n"
        "    COMPREPLY=()\n"
        "  fi\n"
        "}}\n"
        "complete -F _cattery_cli cattery-cli\n",
        commands, optionWords(app), cases);
}

void writeText(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        throw FileError(path.string(), "could not be written");
    }
}

}  // namespace

void writeDocs(const CLI::App& app, const std::string& folder) {
    const std::filesystem::path dir(folder);
    std::filesystem::create_directories(dir / "man1");
    writeText(dir / "man1" / "cattery.1", windowPage());
    writeText(dir / "man1" / "cattery-cli.1", overviewPage(app));
    for (const CLI::App* sub : app.get_subcommands({})) {
        writeText(dir / "man1" / ("cattery-cli-" + sub->get_name() + ".1"), subcommandPage(*sub));
    }
    writeText(dir / "cattery-cli.bash", completion(app));
}

}  // namespace cattery::cli

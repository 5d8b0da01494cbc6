#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace cattery {

// A message part echoed from a file (a parser's complaint that quotes what it read), cut to at
// most `most` bytes so that a hostile file cannot fill the screen or the log.
inline std::string briefly(std::string_view text, std::size_t most = 200) {
    if (text.size() <= most) {
        return std::string(text);
    }
    return std::string(text.substr(0, most)) + "...";
}

// Base of every error core throws; the message is written for the user.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A value the user gave (an option, a config field) is out of range or malformed.
class ConfigError : public Error {
public:
    using Error::Error;
};

// A file could not be read, written or understood; the message names the file.
class FileError : public Error {
public:
    FileError(std::string path, const std::string& problem)
        : Error("'" + path + "': " + problem), m_path(std::move(path)) {}
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

// A model, checkpoint or data set file that is missing, truncated, corrupt or of another format.
class ModelFileError : public FileError {
public:
    using FileError::FileError;
};

// A folder of images that yields nothing usable, or a data set that does not fit the model.
class DataError : public FileError {
public:
    using FileError::FileError;
};

// The device asked for is not on this machine (CUDA without a usable GPU).
class DeviceError : public Error {
public:
    using Error::Error;
};

// Training cannot go on (for example NaN that a rollback could not cure).
class TrainingError : public Error {
public:
    using Error::Error;
};

}  // namespace cattery

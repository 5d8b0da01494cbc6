#pragma once

#include <QUndoCommand>

#include "ui/latentmath.h"

namespace cattery::ui {

// One corner or slot changed; slider drags on the same one merge into a single undo step.
template <typename View, void (View::*Apply)(int, const LatentValue&), int BaseId>
class ValueCommand : public QUndoCommand {
public:
    ValueCommand(View* view, int index, LatentValue before, LatentValue after, bool mergeable,
                 const QString& text)
        : QUndoCommand(text),
          m_view(view),
          m_index(index),
          m_before(std::move(before)),
          m_after(std::move(after)),
          m_mergeable(mergeable) {}
    void redo() override { (m_view->*Apply)(m_index, m_after); }
    void undo() override { (m_view->*Apply)(m_index, m_before); }
    int id() const override { return m_mergeable ? BaseId + m_index : -1; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const ValueCommand*>(other);
        if (!o->m_mergeable || o->m_index != m_index) {
            return false;
        }
        m_after = o->m_after;
        return true;
    }

private:
    View* m_view;
    int m_index;
    LatentValue m_before;
    LatentValue m_after;
    bool m_mergeable;
};

}  // namespace cattery::ui
